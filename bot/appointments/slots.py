"""Appointment slots from office hours: which start times exist, and which are still free.

Slots are laid on the local wall clock (09:00, 09:30 … in THINKA_TIMEZONE) and carried as aware
datetimes, so a slot on the Monday after a daylight-saving change is still 09:00 for the resident.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.org.orgdata import Location


def slots_on(
    location: Location, day: date, tz: ZoneInfo, closed: Iterable[date] = ()
) -> list[datetime]:
    """Every slot start of the location on that local day (aware, in `tz`)."""
    if day in location.closed_days or day in set(closed):
        return []
    step = timedelta(minutes=location.slot_minutes)
    starts: list[datetime] = []
    for period in location.hours:
        if period.weekday != day.weekday():
            continue
        # Wall-clock arithmetic on naive times, then the zone: 09:00 stays 09:00 on any day.
        cursor = datetime.combine(day, period.opens)
        end = datetime.combine(day, period.closes)
        while cursor + step <= end:
            starts.append(cursor.replace(tzinfo=tz))
            cursor += step
    return sorted(set(starts))


def free_slots(
    location: Location,
    day: date,
    tz: ZoneInfo,
    now: datetime,
    taken: dict[datetime, int],
    closed: Iterable[date] = (),
) -> list[datetime]:
    """Slots of that day that start in the future and have a seat left.

    `taken` maps a slot start (any zone) to the seats held there.
    """
    held = {start.astimezone(tz): count for start, count in taken.items()}
    return [
        start
        for start in slots_on(location, day, tz, closed)
        if start > now and held.get(start, 0) < location.capacity
    ]


def booking_window(now: datetime, tz: ZoneInfo, days: int) -> list[date]:
    """Today and the following days, as local dates."""
    today = now.astimezone(tz).date()
    return [today + timedelta(days=offset) for offset in range(days)]
