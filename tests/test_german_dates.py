"""German date and time input: every accepted form, every reason to ask back, DST and format."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.text.german_dates import (
    REASON_AMBIGUOUS_YEAR,
    REASON_INVALID,
    REASON_NO_DATE,
    REASON_NO_TIME,
    REASON_NONEXISTENT,
    REASON_PAST,
    Parsed,
    Unclear,
    format_german,
    parse_german_datetime,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Thursday, 26 Nov 2026, 10:00 in Erfurt.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
# Sunday, 1 Mar 2026, 10:00: before the spring DST change of 29 Mar 2026.
EARLY_2026 = datetime(2026, 3, 1, 10, 0, tzinfo=BERLIN)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parsed(text: str, now: datetime = NOW) -> datetime:
    result = parse_german_datetime(text, now, BERLIN)
    assert isinstance(result, Parsed), result
    assert result.when.tzinfo is BERLIN
    return result.when


def unclear(text: str, now: datetime = NOW) -> Unclear:
    result = parse_german_datetime(text, now, BERLIN)
    assert isinstance(result, Unclear), result
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # numeric dates
        ("03.12.2026 17:00", at(2026, 12, 3, 17)),
        ("3.12.2026 17:00", at(2026, 12, 3, 17)),
        ("3.12. 17 Uhr", at(2026, 12, 3, 17)),
        ("3.12.26 17.30", at(2026, 12, 3, 17, 30)),
        ("03.12. um 17:30 Uhr", at(2026, 12, 3, 17, 30)),
        ("3.12. 17.30 Uhr", at(2026, 12, 3, 17, 30)),
        ("Do 3.12. 17h", at(2026, 12, 3, 17)),
        ("Do. 3.12. 17 h", at(2026, 12, 3, 17)),
        ("Donnerstag, 03.12.2026, 17:00 Uhr", at(2026, 12, 3, 17)),
        ("3.12.2026 17:30h", at(2026, 12, 3, 17, 30)),
        ("3.12. 17uhr", at(2026, 12, 3, 17)),
        ("3.12. um 17", at(2026, 12, 3, 17)),
        ("um 17 Uhr am 3.12.", at(2026, 12, 3, 17)),
        ("am 3.12. ab 17 Uhr", at(2026, 12, 3, 17)),
        ("den 3.12., 17 Uhr", at(2026, 12, 3, 17)),
        ("  3.12. ,,  17:00  ", at(2026, 12, 3, 17)),
        ("3.12. 17 Uhr 30", at(2026, 12, 3, 17, 30)),
        ("3.12. 0:00", at(2026, 12, 3, 0, 0)),
        ("31.12. 23:59", at(2026, 12, 31, 23, 59)),
        ("1.1. 9 Uhr", at(2027, 1, 1, 9)),
        ("1.1.27 9 Uhr", at(2027, 1, 1, 9)),
        ("15.6.2030 9:05", at(2030, 6, 15, 9, 5)),
        # "d.m" without the final dot, when nothing else could be the date
        ("3.12 17 Uhr", at(2026, 12, 3, 17)),
        ("3.12 17.30", at(2026, 12, 3, 17, 30)),
        # month names
        ("3. Dezember 2026, 17 Uhr", at(2026, 12, 3, 17)),
        ("3. Dez. 17:00", at(2026, 12, 3, 17)),
        ("3 dez 17 Uhr", at(2026, 12, 3, 17)),
        ("3.Dez. 17 Uhr", at(2026, 12, 3, 17)),
        ("Do, 3. Dezember, 17 Uhr", at(2026, 12, 3, 17)),
        ("3. DEZEMBER 2026 17 UHR", at(2026, 12, 3, 17)),
        # relative days
        ("morgen 18 Uhr", at(2026, 11, 27, 18)),
        ("Morgen um 18:15", at(2026, 11, 27, 18, 15)),
        ("heute 19:30", at(2026, 11, 26, 19, 30)),
        ("heute 10:01", at(2026, 11, 26, 10, 1)),
        ("heute 18.30", at(2026, 11, 26, 18, 30)),
        ("18.30 Uhr heute", at(2026, 11, 26, 18, 30)),
        ("übermorgen 10 Uhr", at(2026, 11, 28, 10)),
        ("Übermorgen 10 Uhr", at(2026, 11, 28, 10)),
        ("uebermorgen 10 Uhr", at(2026, 11, 28, 10)),
        ("morgen, Fr, 18 Uhr", at(2026, 11, 27, 18)),
        ("morgen 27.11. 18 Uhr", at(2026, 11, 27, 18)),
        # weekdays
        ("Montag 18 Uhr", at(2026, 11, 30, 18)),
        ("Mo 18 Uhr", at(2026, 11, 30, 18)),
        ("Di. 18 Uhr", at(2026, 12, 1, 18)),
        ("Donnerstag 9 Uhr", at(2026, 12, 3, 9)),  # today, but 9:00 has passed
        ("Donnerstag 11 Uhr", at(2026, 11, 26, 11)),  # today, still ahead
        ("Do 10 Uhr", at(2026, 12, 3, 10)),  # exactly now is not ahead
        ("Mittwoch um 14:00", at(2026, 12, 2, 14)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parsed(text) == expected


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("Januar", 1), ("Jänner", 1), ("Jan", 1), ("Jan.", 1),
        ("Februar", 2), ("Feb", 2),
        ("März", 3), ("Maerz", 3), ("Mär", 3), ("Mrz", 3), ("MÄRZ", 3),
        ("April", 4), ("Apr.", 4),
        ("Mai", 5),
        ("Juni", 6), ("Jun", 6),
        ("Juli", 7), ("Jul", 7),
        ("August", 8), ("Aug.", 8),
        ("September", 9), ("Sep", 9), ("Sept.", 9),
        ("Oktober", 10), ("Okt", 10),
        ("November", 11), ("Nov.", 11),
        ("Dezember", 12), ("Dez", 12),
    ],
)  # fmt: skip
def test_month_names(name: str, month: int) -> None:
    assert parsed(f"3. {name} 2027 10 Uhr") == at(2027, month, 3, 10)


def test_month_name_decomposed_umlaut() -> None:
    assert parsed("3. Ma\u0308rz 2027 10 Uhr") == at(2027, 3, 3, 10)


@pytest.mark.parametrize(
    ("names", "day"),
    [
        (("Montag", "Mo", "Mo."), 30),
        (("Dienstag", "Di", "Di."), 1),
        (("Mittwoch", "Mi", "Mi."), 2),
        (("Donnerstag", "Do", "Do."), 3),
        (("Freitag", "Fr", "Fr."), 27),
        (("Samstag", "Sonnabend", "Sa", "Sa."), 28),
        (("Sonntag", "So", "So."), 29),
    ],
)
def test_weekday_names(names: tuple[str, ...], day: int) -> None:
    month = 11 if day > 20 else 12
    for name in names:
        assert parsed(f"{name} 9 Uhr") == at(2026, month, day, 9), name


def test_now_in_another_zone_uses_local_today() -> None:
    # 23:30 UTC on 26 Nov is already 27 Nov in Berlin: "heute" is the 27th.
    now = utc(2026, 11, 26, 23, 30)
    assert parsed("heute 18 Uhr", now) == at(2026, 11, 27, 18)
    assert parsed("morgen 18 Uhr", now) == at(2026, 11, 28, 18)


@pytest.mark.parametrize(
    "text",
    ["17 Uhr", "um 17:30", "17h", "17.30", "17.30 Uhr", "", "   ", "keine Ahnung", "Dezember"],
)
def test_no_date(text: str) -> None:
    assert unclear(text) == Unclear(REASON_NO_DATE)


@pytest.mark.parametrize(
    ("text", "understood"),
    [
        ("3.12.", at(2026, 12, 3)),
        ("03.12.2026", at(2026, 12, 3)),
        ("3.12", at(2026, 12, 3)),
        ("3. Dezember 2026", at(2026, 12, 3)),
        ("Do 3.12.", at(2026, 12, 3)),
        ("morgen", at(2026, 11, 27)),
        ("heute", at(2026, 11, 26)),
        ("Montag", at(2026, 11, 30)),
        ("Donnerstag", at(2026, 11, 26)),  # without a time, today counts
        ("26.11.", at(2026, 11, 26)),
    ],
)
def test_no_time(text: str, understood: datetime) -> None:
    result = unclear(text)
    assert result.reason == REASON_NO_TIME
    assert result.date_understood == understood
    assert result.date_understood is not None
    assert result.date_understood.tzinfo is BERLIN


@pytest.mark.parametrize(
    "text",
    [
        "31.02. 17 Uhr",
        "31.02.2027 17 Uhr",
        "29.02.2027 17 Uhr",  # 2027 is not a leap year
        "32.12. 10 Uhr",
        "3.13. 10 Uhr",
        "0.12. 10 Uhr",
        "3.12. 25:00",
        "3.12. 24 Uhr",
        "3.12. 17:75",
        "3.12. 17.75",
        "3.12. 17:5",
        "3.12. 17 Uhr 75",
        "25:00",
        "Fr 3.12. 17 Uhr",  # 3.12.2026 is a Thursday
        "Montag, 3. Dezember 2026, 17 Uhr",
        "Mo Di 17 Uhr",
        "morgen 3.12. 17 Uhr",  # two different days
        "heute morgen 17 Uhr",  # two different days ("heute Morgen" = this morning, no time)
        "3.12. 17 Uhr 18 Uhr",  # two different times
        "3.12. 17",  # a bare number is not clearly an hour
        "3.12. 17 Uhr abends",  # unknown words are not skipped
        "Montag in zwei Wochen 18 Uhr",
        "3. Feb 99 10 Uhr",
    ],
)
def test_invalid(text: str) -> None:
    assert unclear(text) == Unclear(REASON_INVALID)


@pytest.mark.parametrize(
    "text",
    [
        "3.12.2025 17 Uhr",
        "25.11.2026 17 Uhr",
        "heute 9:30",
        "heute 10:00",  # exactly now is not in the future
        "26.11. 9 Uhr",  # today, but the time has passed
        "1.11.2026",  # a past date without a time is past, not "no time"
        "01.11.2026 17 Uhr",
    ],
)
def test_past(text: str) -> None:
    assert unclear(text) == Unclear(REASON_PAST)


@pytest.mark.parametrize(
    "text",
    [
        "5.11. 17 Uhr",  # probably meant 5 Nov 2026, not 2027
        "25.11. 17 Uhr",  # yesterday
        "5.11.",  # also without a time
        "23.9. 10 Uhr",  # 301 days ahead
        "29.2. 10 Uhr",  # next 29 Feb is in 2028
    ],
)
def test_ambiguous_year(text: str) -> None:
    assert unclear(text) == Unclear(REASON_AMBIGUOUS_YEAR)


def test_year_less_date_just_within_limit() -> None:
    assert parsed("22.9. 10 Uhr") == at(2027, 9, 22, 10)  # 300 days ahead


@pytest.mark.parametrize(
    ("text", "now"),
    [
        ("28.03.2027 02:30", NOW),  # spring DST change 2027 is on Sunday 28 March
        ("28.3. 2:00", datetime(2027, 3, 1, tzinfo=BERLIN)),
        ("29.03.2026 02:30", EARLY_2026),
        ("29.3. 2:59", EARLY_2026),
        ("So 2:30", datetime(2026, 3, 27, 12, tzinfo=BERLIN)),
    ],
)
def test_nonexistent(text: str, now: datetime) -> None:
    assert unclear(text, now) == Unclear(REASON_NONEXISTENT)


OCT_2026 = datetime(2026, 10, 1, 10, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "now", "local", "utc"),
    [
        ("30.03.2026 09:00", EARLY_2026, at(2026, 3, 30, 9), utc(2026, 3, 30, 7)),
        ("27.03.2026 09:00", EARLY_2026, at(2026, 3, 27, 9), utc(2026, 3, 27, 8)),
        ("29.3. 1:30", EARLY_2026, at(2026, 3, 29, 1, 30), utc(2026, 3, 29, 0, 30)),
        ("29.3. 3 Uhr", EARLY_2026, at(2026, 3, 29, 3), utc(2026, 3, 29, 1)),
        ("28.03.2027 09:00", NOW, at(2027, 3, 28, 9), utc(2027, 3, 28, 7)),
        ("3.12. 17 Uhr", NOW, at(2026, 12, 3, 17), utc(2026, 12, 3, 16)),
        # autumn change: the repeated hour takes its first (summer-time) occurrence
        ("25.10. 2:30", OCT_2026, at(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30)),
        ("25.10. 9 Uhr", OCT_2026, at(2026, 10, 25, 9), utc(2026, 10, 25, 8)),
    ],
)
def test_dst_days_keep_wall_clock(text: str, now: datetime, local: datetime, utc: datetime) -> None:
    when = parsed(text, now)
    assert when.replace(tzinfo=None) == local.replace(tzinfo=None)
    assert when.astimezone(UTC) == utc


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_german_datetime("3.12. 17 Uhr", datetime(2026, 11, 26, 10), BERLIN)


@pytest.mark.parametrize(
    ("dt", "expected"),
    [
        (at(2026, 12, 3, 17), "Do., 03.12.2026, 17:00 Uhr"),
        (at(2026, 11, 30, 18), "Mo., 30.11.2026, 18:00 Uhr"),
        (at(2026, 12, 1, 9, 5), "Di., 01.12.2026, 09:05 Uhr"),
        (at(2026, 12, 2, 0, 0), "Mi., 02.12.2026, 00:00 Uhr"),
        (at(2026, 11, 27, 23, 59), "Fr., 27.11.2026, 23:59 Uhr"),
        (at(2026, 11, 28, 10), "Sa., 28.11.2026, 10:00 Uhr"),
        (at(2026, 3, 29, 3, 0), "So., 29.03.2026, 03:00 Uhr"),
    ],
)
def test_format_german(dt: datetime, expected: str) -> None:
    assert format_german(dt) == expected


def test_format_round_trip() -> None:
    when = parsed("Do 3.12. 17:30 Uhr")
    assert format_german(when) == "Do., 03.12.2026, 17:30 Uhr"
