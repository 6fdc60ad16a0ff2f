"""Understand the date and time of an event the way German staff type it.

"03.12.2026 17:00", "3.12. 17 Uhr", "Do 3.12. 17h", "3. Dez. 17:00", "morgen 18 Uhr",
"Montag 18 Uhr" ... become an aware `datetime` in the given zone (`Parsed`). Anything missing,
contradictory or doubtful becomes `Unclear` with a reason, so the bot can ask back instead of
guessing. Words that are not part of a date or time make the input `Unclear(REASON_INVALID)`
rather than being skipped, because skipping "abends" or "in zwei Wochen" would guess wrong.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

REASON_NO_DATE = "no_date"
REASON_NO_TIME = "no_time"
REASON_INVALID = "invalid"
REASON_PAST = "past"
REASON_AMBIGUOUS_YEAR = "ambiguous_year"
REASON_NONEXISTENT = "nonexistent"

# A year-less day.month whose next occurrence is further ahead than this was probably meant
# for the recent past (a typo or a stale date), so we ask instead of silently using next year.
MAX_DAYS_AHEAD_WITHOUT_YEAR = 300


@dataclass(frozen=True)
class Parsed:
    when: datetime  # aware, in `tz`


@dataclass(frozen=True)
class Unclear:
    reason: str  # one of the REASON_* constants
    # For REASON_NO_TIME the date that was understood (aware midnight in `tz`), else None.
    date_understood: datetime | None = None


_MONTHS = {
    "januar": 1, "jänner": 1, "jaenner": 1, "jan": 1,
    "februar": 2, "feb": 2,
    "märz": 3, "maerz": 3, "mär": 3, "mrz": 3,
    "april": 4, "apr": 4,
    "mai": 5,
    "juni": 6, "jun": 6,
    "juli": 7, "jul": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12,
}  # fmt: skip

_WEEKDAYS = {
    "montag": 0, "mo": 0,
    "dienstag": 1, "di": 1,
    "mittwoch": 2, "mi": 2,
    "donnerstag": 3, "do": 3,
    "freitag": 4, "fr": 4,
    "samstag": 5, "sonnabend": 5, "sa": 5,
    "sonntag": 6, "so": 6,
}  # fmt: skip

_RELATIVE = {"heute": 0, "morgen": 1, "übermorgen": 2, "uebermorgen": 2}

_WEEKDAY_ABBR = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")

# Words that carry no meaning here. "um" and "ab" also mark the next bare number as an hour.
_FILLER = {"am", "um", "ab", "den"}
_HOUR_MARKERS = {"um", "ab"}
_UHR = {"uhr", "h"}

_NUMERIC_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})?")
_DAY_ORDINAL = re.compile(r"(\d{1,2})\.?")
_CLOCK = re.compile(r"(\d{1,2}):(\d{1,2})(?:uhr|h)?")
_HOUR_H = re.compile(r"(\d{1,2})h")
_DOT_PAIR = re.compile(r"(\d{1,2})\.(\d{1,2})")
_YEAR = re.compile(r"\d{4}")
_MINUTES = re.compile(r"\d{1,2}")


class _Invalid(Exception):
    """Raised inside the parser for input that is wrong rather than missing."""


class _AmbiguousYear(Exception):
    """Raised for a year-less day.month that is too far ahead to be what was meant."""


@dataclass(frozen=True)
class _DayMonth:
    day: int
    month: int
    year: int | None


@dataclass(frozen=True)
class _Relative:
    days: int


def _tokens(text: str) -> list[str]:
    t = unicodedata.normalize("NFC", text).lower()
    t = re.sub(r"[,;]", " ", t)
    t = re.sub(r"(\d)(uhr)\b", r"\1 \2", t)  # "17uhr" -> "17 uhr"
    t = re.sub(r"(\d\.)([a-zäöü])", r"\1 \2", t)  # "3.dez" -> "3. dez"
    t = re.sub(r"([a-zäöü]\.)(\d)", r"\1 \2", t)  # "do.3.12." -> "do. 3.12."
    return t.split()


def _word(token: str) -> str:
    return token.rstrip(".")


def _is_month(token: str | None) -> bool:
    return token is not None and _word(token) in _MONTHS


def _is_firm_date(token: str) -> bool:
    w = _word(token)
    return (
        w in _RELATIVE
        or w in _WEEKDAYS
        or w in _MONTHS
        or _NUMERIC_DATE.fullmatch(token) is not None
    )


def _time(hour: int, minute: int) -> tuple[int, int]:
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _Invalid
    return hour, minute


def _day_month_possible(day: int, month: int) -> bool:
    try:
        date(2000, month, day)  # a leap year, so 29.02. counts as possible
    except ValueError:
        return False
    return True


@dataclass
class _Scan:
    dates: list[_DayMonth | _Relative]
    weekday: int | None
    time: tuple[int, int] | None
    unknown: bool


def _scan(tokens: list[str]) -> _Scan:
    dates: list[_DayMonth | _Relative] = []
    weekday: int | None = None
    time: tuple[int, int] | None = None
    unknown = False

    def set_time(t: tuple[int, int]) -> None:
        nonlocal time
        if time is not None and time != t:
            raise _Invalid  # two different times: which one is meant?
        time = t

    def nxt(j: int) -> str | None:
        return tokens[j] if j < len(tokens) else None

    i = 0
    hour_expected = False
    while i < len(tokens):
        tok = tokens[i]
        word = _word(tok)
        after_marker, hour_expected = hour_expected, False

        if tok in _FILLER:
            hour_expected = tok in _HOUR_MARKERS
            i += 1
            continue

        if word in _RELATIVE:
            dates.append(_Relative(_RELATIVE[word]))
            i += 1
            continue

        if word in _WEEKDAYS:
            if weekday is not None and weekday != _WEEKDAYS[word]:
                raise _Invalid
            weekday = _WEEKDAYS[word]
            i += 1
            continue

        if m := _NUMERIC_DATE.fullmatch(tok):
            year = m[3]
            full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
            dates.append(_DayMonth(int(m[1]), int(m[2]), full_year))
            i += 1
            continue

        # "3. Dezember 2026", "3 dez", "3.Dez."
        if (m := _DAY_ORDINAL.fullmatch(tok)) and _is_month(nxt(i + 1)):
            month = _MONTHS[_word(tokens[i + 1])]
            i += 2
            year_tok = nxt(i)
            full_year = None
            if year_tok is not None and _YEAR.fullmatch(_word(year_tok)):
                full_year = int(_word(year_tok))
                i += 1
            dates.append(_DayMonth(int(m[1]), month, full_year))
            continue

        if m := _CLOCK.fullmatch(tok):
            if len(m[2]) != 2:
                raise _Invalid
            set_time(_time(int(m[1]), int(m[2])))
            i += 1
            if nxt(i) in _UHR:
                i += 1
            continue

        if m := _HOUR_H.fullmatch(tok):
            set_time(_time(int(m[1]), 0))
            i += 1
            continue

        if m := _DOT_PAIR.fullmatch(tok):
            a, b = int(m[1]), int(m[2])
            followed_by_uhr = nxt(i + 1) in _UHR
            is_time = (
                followed_by_uhr
                or after_marker
                or bool(dates)
                or weekday is not None
                or any(_is_firm_date(t) for t in tokens[i + 1 :])
            )
            if is_time:
                if len(m[2]) != 2:
                    raise _Invalid
                set_time(_time(a, b))
                i += 2 if followed_by_uhr else 1
            elif _day_month_possible(a, b):
                # "3.12" without the final dot and with no other date around: a day and month.
                dates.append(_DayMonth(a, b, None))
                i += 1
            elif len(m[2]) == 2:
                set_time(_time(a, b))  # "17.30" alone: a time (and so no date)
                i += 1
            else:
                raise _Invalid
            continue

        # isdecimal, not isdigit: "²" is a digit that int() refuses.
        if tok.isdecimal() and len(tok) <= 2 and (after_marker or nxt(i + 1) in _UHR):
            hour = int(tok)
            minute = 0
            i += 1
            if nxt(i) in _UHR:
                i += 1
                # "17 Uhr 30"
                minute_tok = nxt(i)
                if minute_tok is not None and _MINUTES.fullmatch(minute_tok):
                    minute = int(minute_tok)
                    i += 1
            set_time(_time(hour, minute))
            continue

        unknown = True
        i += 1

    return _Scan(dates, weekday, time, unknown)


def _resolve(spec: _DayMonth | _Relative, today: date) -> date:
    """The calendar date of one date expression; raises _Invalid or _AmbiguousYear."""
    if isinstance(spec, _Relative):
        return today + timedelta(days=spec.days)
    if spec.year is not None:
        try:
            return date(spec.year, spec.month, spec.day)
        except ValueError:
            raise _Invalid from None
    if not _day_month_possible(spec.day, spec.month):
        raise _Invalid
    year = today.year
    while True:  # terminates: a possible day.month occurs at least every 8 years
        try:
            candidate = date(year, spec.month, spec.day)
        except ValueError:
            year += 1
            continue
        if candidate >= today:
            break
        year += 1
    if (candidate - today).days > MAX_DAYS_AHEAD_WITHOUT_YEAR:
        raise _AmbiguousYear
    return candidate


def _wall(d: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=tz)


def _exists(dt: datetime) -> bool:
    """False for a wall-clock time skipped by a DST change (it does not survive a round trip)."""
    back = dt.astimezone(UTC).astimezone(dt.tzinfo)
    return back.replace(tzinfo=None) == dt.replace(tzinfo=None)


def parse_german_datetime(text: str, now: datetime, tz: ZoneInfo) -> Parsed | Unclear:
    """Parse a German date and time typed by staff, relative to `now` (aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    today = now.astimezone(tz).date()

    try:
        scan = _scan(_tokens(text))
    except _Invalid:
        return Unclear(REASON_INVALID)

    if not scan.dates and scan.weekday is None:
        return Unclear(REASON_NO_DATE)
    if scan.unknown:
        return Unclear(REASON_INVALID)

    if scan.dates:
        try:
            resolved = {_resolve(spec, today) for spec in scan.dates}
        except _Invalid:
            return Unclear(REASON_INVALID)
        except _AmbiguousYear:
            return Unclear(REASON_AMBIGUOUS_YEAR)
        if len(resolved) != 1:
            return Unclear(REASON_INVALID)  # "morgen 3.12." on 26.11.: two different days
        day = resolved.pop()
        if scan.weekday is not None and day.weekday() != scan.weekday:
            return Unclear(REASON_INVALID)
    else:
        assert scan.weekday is not None
        day = today + timedelta(days=(scan.weekday - today.weekday()) % 7)
        if day == today and scan.time is not None and _wall(day, *scan.time, tz) <= now:
            day += timedelta(days=7)

    if day < today:
        return Unclear(REASON_PAST)
    if scan.time is None:
        return Unclear(REASON_NO_TIME, _wall(day, 0, 0, tz))

    when = _wall(day, *scan.time, tz)
    if not _exists(when):
        return Unclear(REASON_NONEXISTENT)
    if when <= now:
        return Unclear(REASON_PAST)
    return Parsed(when)


def format_german(dt: datetime) -> str:
    """E.g. "Do., 03.12.2026, 17:00 Uhr", in dt's own wall-clock time."""
    return f"{_WEEKDAY_ABBR[dt.weekday()]}, {dt:%d.%m.%Y}, {dt:%H:%M} Uhr"
