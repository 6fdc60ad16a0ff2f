"""Figures for the funder (ESF): residents reached, cases by topic, language and district,
appointments, time to the first answer, events and announcements — from the database with SQL,
never a name or a message. Any group smaller than 3 is shown as "<3" so nobody can be recognised.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.db import Database
from bot.core.outgoing import Envelope, Outgoing
from bot.selfhelp.repository import EVENTS, SelfHelpRepository

SMALL = 3


def masked(count: int) -> str:
    """A count as shown: 0, "<3" for 1 and 2, else the number."""
    return "<3" if 0 < count < SMALL else str(count)


@dataclass
class Report:
    start: date
    end: date  # inclusive
    figures: dict[str, int] = field(default_factory=dict)
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)
    median_first_answer_hours: float | None = None

    def rows(self) -> list[tuple[str, str, str]]:
        """(section, item, value) with small groups masked."""
        rows = [("period", "from", self.start.isoformat()), ("period", "to", self.end.isoformat())]
        rows += [("total", key, masked(value)) for key, value in self.figures.items()]
        for section, counts in self.breakdowns.items():
            rows += [(section, key, masked(value)) for key, value in sorted(counts.items())]
        median = (
            "–"
            if self.median_first_answer_hours is None
            else f"{self.median_first_answer_hours:.1f}"
        )
        rows.append(("total", "median_hours_to_first_answer", median))
        return rows

    def as_text(self) -> str:
        lines = [f"Th.INKA report {self.start.isoformat()} – {self.end.isoformat()}"]
        section = None
        for name, key, value in self.rows()[2:]:
            if name != section:
                section = name
                lines.append(f"\n[{name}]")
            lines.append(f"{key}: {value}")
        lines.append("\n(groups smaller than 3 are shown as <3)")
        return "\n".join(lines)

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["section", "item", "value"])
        writer.writerows(self.rows())
        return out.getvalue()


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def report(self, start: date, end: date, tz: ZoneInfo) -> Report:
        """Local days start..end (inclusive) in `tz`."""
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
        for column in ("topic", "language", "district"):
            rows = await self._db.fetchall(
                f"SELECT COALESCE({column}, '–'), COUNT(*) FROM cases WHERE submitted_at >= ?"
                f" AND submitted_at < ? GROUP BY 1",
                params,
            )
            report.breakdowns[f"cases_by_{column}"] = {row[0]: row[1] for row in rows}
        rows = await self._db.fetchall(
            "SELECT c.submitted_at, MIN(m.created_at) FROM cases c JOIN case_messages m"
            " ON m.case_id = c.id AND m.direction = 'out' WHERE c.submitted_at >= ?"
            " AND c.submitted_at < ? GROUP BY c.id",
            params,
        )
        waits = [
            (datetime.fromisoformat(r[1]) - datetime.fromisoformat(r[0])).total_seconds() / 3600
            for r in rows
        ]
        report.median_first_answer_hours = statistics.median(waits) if waits else None
        return report

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
