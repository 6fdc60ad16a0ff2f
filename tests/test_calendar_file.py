"""The appointment .ics: times in the contact point's zone with a VTIMEZONE, RFC 5545 framing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone

from bot.appointments.calendar_file import PRODID, appointment_ics

BERLIN = ZoneInfo("Europe/Berlin")
DAMASCUS = ZoneInfo("Asia/Damascus")

# Tue 1 Dec 2026, 09:00 in Erfurt (CET, UTC+1).
WINTER_START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# Mon 30 Mar 2026, 09:00 in Erfurt (CEST, UTC+2), the day after daylight saving time starts.
SUMMER_START = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

ARABIC_SUMMARY = "موعد: نقطة الاتصال Th.INKA في ريث"
CYRILLIC_DESCRIPTION = (
    "Пожалуйста, возьмите с собой:\n"
    "– паспорт или вид на жительство;\n"
    "– письмо из Jobcenter (если есть).\n"
    "Вход со стороны Берлинер Плац, звоните в дверь."
)


def _ics(**overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {
        "uid": "appointment-12@thinka-erfurt",
        "starts_at": WINTER_START,
        "ends_at": WINTER_START + timedelta(minutes=45),
        "timezone": BERLIN,
        "summary": "Termin: Th.INKA Rieth",
        "location": "Th.INKA Rieth, Berliner Platz 1, 99091 Erfurt",
        "description": "Bitte mitbringen: Ausweis, Briefe vom Amt.\nKlingeln Sie bitte.",
        "created_at": datetime(2026, 11, 20, 14, 30, tzinfo=UTC),
    }
    kwargs.update(overrides)
    return appointment_ics(**kwargs)


def _parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return calendar, events[0]


def _unfolded_lines(data: bytes) -> list[str]:
    text = data.decode("utf-8")
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def _offset_from_vtimezone(vtimezone: Timezone, local: datetime) -> timedelta:
    """The UTC offset the VTIMEZONE itself (not the zoneinfo database) gives a local time."""
    onsets: list[tuple[datetime, timedelta]] = []
    for observance in vtimezone.walk("STANDARD") + vtimezone.walk("DAYLIGHT"):
        offset_to = observance["TZOFFSETTO"].td
        starts = [observance["DTSTART"].dt]
        rdates = observance.get("RDATE", [])
        for rdate_list in rdates if isinstance(rdates, list) else [rdates]:
            starts.extend(item.dt for item in rdate_list.dts)
        onsets.extend((start, offset_to) for start in starts)
    naive = local.replace(tzinfo=None)
    in_effect = [(start, offset) for start, offset in onsets if start <= naive]
    assert in_effect, f"no observance of {vtimezone.tz_name} covers {naive}"
    return max(in_effect)[1]


# --- DTSTART / DTEND in the contact point's zone -------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "local_stamp", "utc_offset"),
    [
        (WINTER_START, "20261201T090000", timedelta(hours=1)),
        (SUMMER_START, "20260330T090000", timedelta(hours=2)),
    ],
    ids=["winter", "summer"],
)
def test_start_and_end_are_local_wall_clock_with_tzid(
    starts_at: datetime, local_stamp: str, utc_offset: timedelta
) -> None:
    ends_at = starts_at + timedelta(hours=1)
    data = _ics(starts_at=starts_at, ends_at=ends_at)
    lines = _unfolded_lines(data)
    assert f"DTSTART;TZID=Europe/Berlin:{local_stamp}" in lines
    end_stamp = local_stamp.replace("T09", "T10")
    assert f"DTEND;TZID=Europe/Berlin:{end_stamp}" in lines

    _, event = _parse(data)
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert (start.hour, start.minute) == (9, 0)
    assert start.utcoffset() == utc_offset
    assert start == starts_at
    assert end == ends_at


def test_start_given_in_another_zone_is_written_in_the_contact_points_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    starts_at = WINTER_START.astimezone(new_york)  # 03:00 in New York
    data = _ics(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30))
    assert "DTSTART;TZID=Europe/Berlin:20261201T090000" in _unfolded_lines(data)
    _, event = _parse(data)
    assert event["DTSTART"].dt == WINTER_START


# --- VTIMEZONE -------------------------------------------------------------------------------


@pytest.mark.parametrize("starts_at", [WINTER_START, SUMMER_START], ids=["winter", "summer"])
def test_exactly_one_vtimezone_for_berlin_covering_the_event(starts_at: datetime) -> None:
    data = _ics(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))
    calendar, event = _parse(data)

    timezones = calendar.walk("VTIMEZONE")
    assert len(timezones) == 1
    vtimezone = timezones[0]
    assert str(vtimezone["TZID"]) == "Europe/Berlin"
    assert calendar.get_missing_tzids() == set()
    assert vtimezone.walk("STANDARD"), "no STANDARD observance"
    assert vtimezone.walk("DAYLIGHT"), "no DAYLIGHT observance"

    # The observances in the file alone give the right offset for the event's start and end.
    for instant in (starts_at, starts_at + timedelta(hours=1)):
        local = instant.astimezone(BERLIN)
        assert _offset_from_vtimezone(vtimezone, local) == local.utcoffset()

    # And a tzinfo built only from the VTIMEZONE (no lookup by TZID) puts the event right.
    from_file = vtimezone.to_tz(lookup_tzid=False)
    wall_clock = event["DTSTART"].dt.replace(tzinfo=from_file)
    assert wall_clock == starts_at


def test_vtimezone_comes_before_the_event() -> None:
    text = _ics().decode("utf-8")
    assert text.index("BEGIN:VTIMEZONE") < text.index("BEGIN:VEVENT")


def test_vtimezone_knows_both_daylight_saving_changes_of_the_year() -> None:
    calendar, _ = _parse(_ics())  # a December appointment
    vtimezone = calendar.walk("VTIMEZONE")[0]
    for local, offset in (
        (datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN), timedelta(hours=1)),
        (datetime(2026, 3, 29, 4, 0, tzinfo=BERLIN), timedelta(hours=2)),
        (datetime(2026, 10, 25, 1, 0, tzinfo=BERLIN), timedelta(hours=2)),
        (datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN), timedelta(hours=1)),
    ):
        assert _offset_from_vtimezone(vtimezone, local) == offset, local


def test_another_zone_works() -> None:
    # 10:00 in Damascus (UTC+3 all year since 2022).
    starts_at = datetime(2026, 6, 15, 7, 0, tzinfo=UTC)
    data = _ics(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), timezone=DAMASCUS)
    lines = _unfolded_lines(data)
    assert "DTSTART;TZID=Asia/Damascus:20260615T100000" in lines
    assert "DTEND;TZID=Asia/Damascus:20260615T103000" in lines

    calendar, event = _parse(data)
    timezones = calendar.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Damascus"]
    assert calendar.get_missing_tzids() == set()
    local = starts_at.astimezone(DAMASCUS)
    assert _offset_from_vtimezone(timezones[0], local) == timedelta(hours=3)
    assert event["DTSTART"].dt == starts_at
    assert event["DTEND"].dt == starts_at + timedelta(minutes=30)


def test_zone_with_historic_daylight_saving_time() -> None:
    # Damascus still had summer time in 2021 (UTC+3 in summer, UTC+2 in winter).
    summer = datetime(2021, 7, 1, 7, 0, tzinfo=UTC)
    winter = datetime(2021, 12, 1, 7, 0, tzinfo=UTC)
    for starts_at, offset in ((summer, timedelta(hours=3)), (winter, timedelta(hours=2))):
        data = _ics(
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            timezone=DAMASCUS,
            created_at=starts_at - timedelta(days=3),
        )
        calendar, event = _parse(data)
        vtimezone = calendar.walk("VTIMEZONE")[0]
        assert _offset_from_vtimezone(vtimezone, starts_at.astimezone(DAMASCUS)) == offset
        assert event["DTSTART"].dt == starts_at


# --- Calendar and event properties ---------------------------------------------------------


def test_calendar_header() -> None:
    calendar, _ = _parse(_ics())
    assert str(calendar["PRODID"]) == PRODID == "-//MitMenschen e.V.//Th.INKA bot//DE"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"


def test_dtstamp_is_utc() -> None:
    created_at = datetime(2026, 11, 20, 15, 30, tzinfo=BERLIN)  # given in local time
    data = _ics(created_at=created_at)
    assert "DTSTAMP:20261120T143000Z" in _unfolded_lines(data)
    _, event = _parse(data)
    stamp = event["DTSTAMP"].dt
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == created_at


@pytest.mark.parametrize(
    ("cancelled", "method", "status"),
    [(False, "PUBLISH", "CONFIRMED"), (True, "CANCEL", "CANCELLED")],
    ids=["confirmed", "cancelled"],
)
def test_uid_sequence_method_and_status(cancelled: bool, method: str, status: str) -> None:
    data = _ics(sequence=2, cancelled=cancelled)
    calendar, event = _parse(data)
    assert str(calendar["METHOD"]) == method
    assert str(event["STATUS"]) == status
    assert str(event["UID"]) == "appointment-12@thinka-erfurt"
    assert event["SEQUENCE"] == 2
    assert event["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert f"METHOD:{method}" in _unfolded_lines(data)
    assert f"STATUS:{status}" in _unfolded_lines(data)


def test_sequence_defaults_to_zero_and_uid_is_stable() -> None:
    _, first = _parse(_ics())
    moved_start = WINTER_START + timedelta(days=1)
    _, moved = _parse(
        _ics(starts_at=moved_start, ends_at=moved_start + timedelta(hours=1), sequence=1)
    )
    assert first["SEQUENCE"] == 0
    assert moved["SEQUENCE"] == 1
    assert str(first["UID"]) == str(moved["UID"])


def test_summary_location_and_description() -> None:
    _, event = _parse(_ics())
    assert str(event["SUMMARY"]) == "Termin: Th.INKA Rieth"
    assert str(event["LOCATION"]) == "Th.INKA Rieth, Berliner Platz 1, 99091 Erfurt"
    assert str(event["DESCRIPTION"]) == (
        "Bitte mitbringen: Ausweis, Briefe vom Amt.\nKlingeln Sie bitte."
    )


def test_location_without_address() -> None:
    _, event = _parse(_ics(location="Th.INKA Rieth"))
    assert str(event["LOCATION"]) == "Th.INKA Rieth"


def test_reminder_two_hours_before() -> None:
    _, event = _parse(_ics())
    alarms = event.walk("VALARM")
    assert len(alarms) == 1
    alarm = alarms[0]
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(hours=-2)
    assert str(alarm["DESCRIPTION"])
    assert "TRIGGER:-PT2H" in _unfolded_lines(_ics())


# --- Text, encoding and line format --------------------------------------------------------


def test_arabic_and_cyrillic_round_trip_unchanged() -> None:
    description = CYRILLIC_DESCRIPTION + "\nطريق; مع فاصلة, وشرطة مائلة \\ أيضاً"
    data = _ics(summary=ARABIC_SUMMARY, description=description, location="Берлинер Плац 1")
    _, event = _parse(data)
    assert str(event["SUMMARY"]) == ARABIC_SUMMARY
    assert str(event["DESCRIPTION"]) == description
    assert str(event["LOCATION"]) == "Берлинер Плац 1"


def test_windows_newlines_in_description_become_line_breaks() -> None:
    _, event = _parse(_ics(description="Erste Zeile\r\nZweite Zeile"))
    assert str(event["DESCRIPTION"]) == "Erste Zeile\nZweite Zeile"


def test_crlf_line_endings_and_folding_at_75_octets() -> None:
    long_text = (CYRILLIC_DESCRIPTION + " ") * 4 + ARABIC_SUMMARY * 3
    data = _ics(summary=ARABIC_SUMMARY * 2, description=long_text)
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    physical_lines = data.split(b"\r\n")[:-1]
    for line in physical_lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # folding never splits a multi-byte character
    assert any(line.startswith(b" ") for line in physical_lines), "nothing was folded"
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert data.endswith(b"END:VCALENDAR\r\n")
    _, event = _parse(data)
    assert str(event["DESCRIPTION"]) == long_text


# --- Invalid input ---------------------------------------------------------------------------


NAIVE = datetime(2026, 12, 1, 9, 0)


@pytest.mark.parametrize(
    "overrides",
    [
        {"starts_at": NAIVE},
        {"ends_at": NAIVE + timedelta(hours=1)},
        {"starts_at": NAIVE, "ends_at": NAIVE + timedelta(hours=1)},
        {"created_at": NAIVE},
        {"ends_at": WINTER_START},
        {"ends_at": WINTER_START - timedelta(minutes=1)},
    ],
    ids=[
        "naive-start",
        "naive-end",
        "naive-both",
        "naive-created",
        "end-equals-start",
        "end-before-start",
    ],
)
def test_invalid_input_raises_value_error(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _ics(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [{"uid": "  "}, {"sequence": -1}],
    ids=["blank-uid", "negative-sequence"],
)
def test_other_invalid_input_raises_value_error(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _ics(**overrides)


def test_zone_without_iana_key_raises_value_error() -> None:
    with resources.files("tzdata.zoneinfo.Europe").joinpath("Berlin").open("rb") as tzif:
        keyless = ZoneInfo.from_file(tzif)  # a zone without a key has no TZID to write
    with pytest.raises(ValueError):
        _ics(timezone=keyless)
