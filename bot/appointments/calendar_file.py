"""The .ics file a resident gets when an appointment is confirmed (or moved, or cancelled).

Why the file carries a VTIMEZONE: DTSTART and DTEND are written as the contact point's local
wall-clock time with a TZID parameter (``DTSTART;TZID=Europe/Berlin:20261201T090000``). RFC 5545
requires a VTIMEZONE component for every TZID that is used, and some calendar apps (Outlook and
several Android calendars among them) ignore a bare TZID that has no VTIMEZONE: they read the
time as floating or as UTC and show the appointment an hour or two off. With the VTIMEZONE the
file itself says how Europe/Berlin maps to UTC on both sides of the daylight-saving changes, so
every app shows 09:00 for a 09:00 appointment, in March as in December.

The file is built with the icalendar library (escaping, UTF-8, CRLF and line folding at 75
octets are its job); the VTIMEZONE comes from ``icalendar.Timezone.from_tzinfo``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone

PRODID = "-//MitMenschen e.V.//Th.INKA bot//DE"

# The reminder calendar apps show before the appointment.
REMINDER_BEFORE = timedelta(hours=2)


def appointment_ics(
    *,
    uid: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: ZoneInfo,
    summary: str,
    location: str,
    description: str,
    created_at: datetime,
    sequence: int = 0,
    cancelled: bool = False,
) -> bytes:
    """The .ics (UTF-8, CRLF line endings, folded lines) for one appointment.

    ``starts_at``, ``ends_at`` and ``created_at`` must be timezone-aware (any zone). The event is
    written in ``timezone`` with a matching VTIMEZONE; DTSTAMP is ``created_at`` in UTC. Bump
    ``sequence`` whenever the appointment changes (moved or cancelled) and keep ``uid`` stable,
    so calendar apps update the existing entry instead of adding a second one.
    """
    for name, value in (
        ("starts_at", starts_at),
        ("ends_at", ends_at),
        ("created_at", created_at),
    ):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    if ends_at <= starts_at:
        raise ValueError(
            f"ends_at ({ends_at.isoformat()}) must be after starts_at ({starts_at.isoformat()})"
        )
    if not uid.strip():
        raise ValueError("uid must not be empty")
    if sequence < 0:
        raise ValueError(f"sequence must not be negative, got {sequence}")
    tzid = getattr(timezone, "key", None)
    if not tzid:
        raise ValueError("timezone must be a ZoneInfo with an IANA key, e.g. 'Europe/Berlin'")

    local_start = starts_at.astimezone(timezone)
    local_end = ends_at.astimezone(timezone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")

    # From 1 January of the appointment's year to the end of the following year: a handful of
    # observances (both daylight-saving changes of each year) instead of decades of them.
    calendar.add_component(
        Timezone.from_tzinfo(
            timezone,
            tzid=tzid,
            first_date=date(local_start.year, 1, 1),
            last_date=date(local_end.year + 2, 1, 1),
        )
    )

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", created_at.astimezone(UTC))
    event.add("dtstart", local_start)
    event.add("dtend", local_end)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", _normalise_newlines(description))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")

    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -REMINDER_BEFORE)
    alarm.add("description", summary)
    event.add_component(alarm)

    calendar.add_component(event)

    missing = calendar.get_missing_tzids()
    if missing:  # pragma: no cover - from_tzinfo above always supplies the one TZID we use
        raise RuntimeError(f"VTIMEZONE missing for {sorted(missing)}")
    return calendar.to_ical()


def _normalise_newlines(text: str) -> str:
    """CRLF and CR become LF; icalendar escapes LF as ``\\n`` inside the TEXT value."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
