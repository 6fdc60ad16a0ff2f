"""Figures for the funder (ESF): residents reached, cases by topic, language and district,
appointments, time to the first answer, events and announcements — from the database with SQL,
never a name or a message. Any group smaller than 3 is shown as "<3" so nobody can be recognised
(bot/reporting/masking.py); the formats are in bot/reporting/export.py.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.db import Database
from bot.core.outgoing import Envelope, Outgoing
from bot.outreach.repository import OutreachRepository
from bot.reporting.labels import NOT_GIVEN, item_sort_key, section_sort_key
from bot.reporting.masking import Shown, masked, protect
from bot.selfhelp.repository import EVENTS, SelfHelpRepository

Row = Shown | date | float  # a masked count, a date of the period, the median in hours


@dataclass
class Report:
    start: date
    end: date  # inclusive
    figures: dict[str, int] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)
    median_first_answer_hours: float | None = None

    def rows(self) -> list[tuple[str, str, Row]]:
        """(section, item, value) as every format shows them: the period's dates, counts with
        small groups masked ("<3", and "x" beside them: bot/reporting/masking.py), the median
        in hours with one decimal ("–" before any answer)."""
        rows: list[tuple[str, str, Row]] = [
            ("period", "from", self.start),
            ("period", "to", self.end),
        ]
        rows += [("total", key, masked(value)) for key, value in self.figures.items()]
        median = self.median_first_answer_hours
        rows.append(
            ("total", "median_hours_to_first_answer", "–" if median is None else round(median, 1))
        )
        for section in sorted(self.breakdowns, key=section_sort_key):
            counts = self.breakdowns[section]
            ordered = sorted(counts, key=lambda key, s=section: item_sort_key(s, key))
            shown = protect({key: counts[key] for key in ordered})
            rows += [(section, key, value) for key, value in shown.items()]
        return rows


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def report(self, start: date, end: date, tz: ZoneInfo) -> Report:
        # Reads months of cases: on a worker thread, the loop keeps serving residents.
        with self._db.off_loop():
            return await self._report(start, end, tz)

    async def _report(self, start: date, end: date, tz: ZoneInfo) -> Report:
        """Local days start..end (inclusive) in `tz`. Each statement reads an index that
        holds what it counts (migrations/0017: cases_by_submitted, cases_by_closed,
        outgoing_delivered_announcements), not the tables' rows."""
        lo = datetime.combine(start, time(), tzinfo=tz).astimezone(UTC).isoformat()
        hi = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
        hi_iso = hi.isoformat()
        params = (lo, hi_iso)
        one = self._one
        report = Report(start, end)
        report.figures = {
            "residents_new": await one(
                "SELECT COALESCE(SUM(count), 0) FROM daily_counts WHERE kind ="
                " 'resident_reached' AND day >= ? AND day <= ?",
                (start.isoformat(), end.isoformat()),
            ),
            # Distinct residents with a case; a deleted resident's cases count one each.
            "residents_reached": await one(
                "SELECT COUNT(DISTINCT resident_id) + SUM(resident_id IS NULL) FROM cases"
                " WHERE submitted_at >= ? AND submitted_at < ?",
                params,
            ),
            "cases_opened": await one(
                "SELECT COUNT(*) FROM cases WHERE submitted_at >= ? AND submitted_at < ?", params
            ),
            "cases_closed": await one(
                "SELECT COUNT(*) FROM cases WHERE closed_at >= ? AND closed_at < ?"
                " AND submitted_at IS NOT NULL",
                params,
            ),
            "cases_urgent": await one(
                "SELECT COUNT(*) FROM cases WHERE urgent = 1 AND submitted_at >= ?"
                " AND submitted_at < ?",
                params,
            ),
            "appointments_requested": await one(
                "SELECT COUNT(*) FROM appointments WHERE created_at >= ? AND created_at < ?", params
            ),
            "appointments_held": await one(
                "SELECT COUNT(*) FROM appointments WHERE status = 'done' AND starts_at >= ?"
                " AND starts_at < ?",
                params,
            ),
            "appointments_missed": await one(
                "SELECT COUNT(*) FROM appointments WHERE status = 'no_show' AND starts_at >= ?"
                " AND starts_at < ?",
                params,
            ),
            "events": await one(
                "SELECT COUNT(*) FROM events WHERE status = 'published' AND starts_at >= ?"
                " AND starts_at < ?",
                params,
            ),
            "event_rsvps": await one(
                "SELECT COUNT(*) FROM rsvps v JOIN events e ON e.id = v.event_id"
                " WHERE e.starts_at >= ? AND e.starts_at < ?",
                params,
            ),
            "announcements_delivered": await one(
                # A broadcast's rows of the durable path are its record (bot/core/outgoing.py).
                "SELECT COUNT(*) FROM outgoing WHERE batch_id IS NOT NULL AND status = 'sent'"
                " AND updated_at >= ? AND updated_at < ?",
                params,
            ),
        }
        # Quick answers: how often offered before a request, read, helpful, not enough.
        answers = await SelfHelpRepository(self._db).figures(start, end)
        for event in EVENTS:
            report.figures[f"selfhelp_{event}"] = sum(getattr(f, event) for f in answers)
        for event in ("opened", "helped"):
            report.breakdowns[f"selfhelp_{event}_by_answer"] = {
                f.answer_id: getattr(f, event) for f in answers if getattr(f, event)
            }
        # Residents reached through a poster's or flyer's link (counted at their consent, as
        # residents_new is), and the rest: together they are residents_new.
        links = await OutreachRepository(self._db).residents_by_link(start, end)
        links[NOT_GIVEN] = report.figures["residents_new"] - sum(links.values())
        report.breakdowns["residents_by_link"] = links
        for column in ("topic", "language", "district"):
            rows = await self._db.fetchall(
                f"SELECT COALESCE({column}, '–'), COUNT(*) FROM cases WHERE submitted_at >= ?"
                f" AND submitted_at < ? GROUP BY 1",
                params,
            )
            report.breakdowns[f"cases_by_{column}"] = {row[0]: row[1] for row in rows}
        # Time to the first answer: per case one step into the index case_messages_first_answer
        # (migrations/0017), not a join of every message with its case. MATERIALIZED: inlined,
        # SQLite would run the subquery twice per case, for the filter and for the column.
        rows = await self._db.fetchall(
            "WITH firsts AS MATERIALIZED (SELECT c.submitted_at AS submitted,"
            " (SELECT MIN(m.created_at) FROM case_messages m WHERE m.case_id = c.id"
            " AND m.direction = 'out') AS answered FROM cases c"
            " WHERE c.submitted_at >= ? AND c.submitted_at < ?)"
            " SELECT submitted, answered FROM firsts WHERE answered IS NOT NULL",
            params,
        )
        waits = [
            (datetime.fromisoformat(r[1]) - datetime.fromisoformat(r[0])).total_seconds() / 3600
            for r in rows
        ]
        report.median_first_answer_hours = statistics.median(waits) if waits else None
        return report

    async def month_claimed(self, month: str) -> bool:
        return (
            await self._db.fetchone("SELECT 1 FROM report_runs WHERE month = ?", (month,))
            is not None
        )

    async def claim_month(
        self, month: str, now: datetime, outgoing: Iterable[Envelope] = ()
    ) -> bool:
        """The month's report recorded and queued for the admins once, in one transaction."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "INSERT OR IGNORE INTO report_runs (month, sent_at) VALUES (?, ?)",
                (month, now.isoformat()),
            )
            if claimed:
                await Outgoing(self._db).add(tx, outgoing, now)
        return claimed > 0

    async def _one(self, sql: str, params) -> int:
        row = await self._db.fetchone(sql, params)
        return int(row[0] or 0)
