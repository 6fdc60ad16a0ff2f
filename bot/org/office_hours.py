"""When a resident can expect an answer: now, or the start of the next office-hours period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.org.orgdata import Location


@dataclass(frozen=True)
class Expectation:
    """`during_hours`: we are open now. Else `next_opening` (local, aware) or None if no hours."""

    during_hours: bool
    next_opening: datetime | None


def expected_answer(locations: list[Location], now: datetime, tz: ZoneInfo) -> Expectation:
    """Looks up to two weeks ahead across the given locations' office hours."""
    local = now.astimezone(tz)
    periods = [period for location in locations for period in location.hours]
    if not periods:
        return Expectation(False, None)
    best: datetime | None = None
    for offset in range(15):
        day = (local + timedelta(days=offset)).date()
        for period in periods:
            if period.weekday != day.weekday():
                continue
            # Built from the local wall-clock date and time: right across daylight-saving changes.
            opens = datetime.combine(day, period.opens, tzinfo=tz)
            closes = datetime.combine(day, period.closes, tzinfo=tz)
            if opens <= local < closes:
                return Expectation(True, None)
            if opens > local and (best is None or opens < best):
                best = opens
        if best is not None:
            break
    return Expectation(False, best)
