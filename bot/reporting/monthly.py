"""The report's figures month by month, for the charts and the spreadsheet: residents reached by
topic and by district, appointments held and missed.

Counted as bot/reporting/report.py counts them: a resident is reached in a month when a request
of theirs
was submitted in it (a deleted resident's requests count one each), an appointment by the month it
was due. Months are local calendar months in the bot's time zone, clipped to the report's period,
and their bounds are worked out in Python (across daylight-saving changes) and handed to SQLite as
a small table, so the counting itself stays in one SQL statement per series.

Groups smaller than 3 never leave this module as numbers: they come back as "<3". Each series is
masked across its months like a breakdown (bot/reporting/masking.py), since its months add up
to a total the report shows (appointments held, for one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.db import Database
from bot.reporting.labels import NOT_GIVEN, topic_sort_key
from bot.reporting.masking import Shown, protect

Count = Shown  # a count, "<3" or "x" (bot/reporting/masking.py)


@dataclass(frozen=True)
class MonthlySeries:
    months: tuple[date, ...]  # the first day of each local month
    residents_by_topic: dict[str, tuple[Count, ...]]
    residents_by_district: dict[str, tuple[Count, ...]]
    appointments_held: tuple[Count, ...]
    appointments_missed: tuple[Count, ...]


def month_bounds(start: date, end: date, tz: ZoneInfo) -> list[tuple[date, str, str]]:
    """(first day of the month, UTC lower bound, UTC upper bound) for each month touching
    start..end (inclusive), the first and last clipped to the period."""
    bounds = []
    month = start.replace(day=1)
    while month <= end:
        following = (month + timedelta(days=32)).replace(day=1)
        lo = max(month, start)
        hi = min(following, end + timedelta(days=1))
        bounds.append((month, _utc(lo, tz), _utc(hi, tz)))
        month = following
    return bounds


def _utc(day: date, tz: ZoneInfo) -> str:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC).isoformat()


class MonthlyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def series(self, start: date, end: date, tz: ZoneInfo) -> MonthlySeries:
        # Reads months of cases: on a worker thread, the loop keeps serving residents.
        with self._db.off_loop():
            return await self._series(start, end, tz)

    async def _series(self, start: date, end: date, tz: ZoneInfo) -> MonthlySeries:
        if start > end:
            raise ValueError("start must not be after end")
        bounds = month_bounds(start, end, tz)
        months = tuple(m for m, _, _ in bounds)
        values = ", ".join("(?, ?, ?)" for _ in bounds)
        params = [v for m, lo, hi in bounds for v in (m.isoformat(), lo, hi)]
        # The CTE holds the month bounds; every statement below joins against it.
        with_months = f"WITH months (month, lo, hi) AS (VALUES {values}) "
        residents = (
            with_months + "SELECT m.month, COALESCE(c.{column}, ?),"
            " COUNT(DISTINCT c.resident_id) + SUM(c.resident_id IS NULL)"
            " FROM months m JOIN cases c ON c.submitted_at >= m.lo AND c.submitted_at < m.hi"
            " GROUP BY 1, 2"
        )
        by_topic = await self._db.fetchall(residents.format(column="topic"), (*params, NOT_GIVEN))
        by_district = await self._db.fetchall(
            residents.format(column="district"), (*params, NOT_GIVEN)
        )
        appointments = await self._db.fetchall(
            with_months + "SELECT m.month, a.status, COUNT(*) FROM months m JOIN appointments a"
            " ON a.starts_at >= m.lo AND a.starts_at < m.hi"
            " WHERE a.status IN ('done', 'no_show') GROUP BY 1, 2",
            params,
        )
        status = _grid(appointments, months)
        return MonthlySeries(
            months=months,
            residents_by_topic=dict(
                sorted(_grid(by_topic, months).items(), key=lambda kv: topic_sort_key(kv[0]))
            ),
            residents_by_district=dict(sorted(_grid(by_district, months).items())),
            appointments_held=status.get("done", _zeros(months)),
            appointments_missed=status.get("no_show", _zeros(months)),
        )


def _zeros(months: tuple[date, ...]) -> tuple[Count, ...]:
    return (0,) * len(months)


def _grid(rows, months: tuple[date, ...]) -> dict[str, tuple[Count, ...]]:
    """(month, key, count) rows -> key -> masked counts in month order, 0 where none."""
    index = {m.isoformat(): i for i, m in enumerate(months)}
    grid: dict[str, list[int]] = {}
    for month, key, count in rows:
        grid.setdefault(key, [0] * len(months))[index[month]] = int(count or 0)
    return {key: tuple(protect(dict(enumerate(counts))).values()) for key, counts in grid.items()}
