"""When to expect an answer, from office hours: aware datetimes, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.org.office_hours import expected_answer
from bot.org.orgdata import Location, OpeningPeriod

BERLIN = ZoneInfo("Europe/Berlin")


def location(*periods: tuple[int, str, str]) -> Location:
    return Location(
        key="rieth",
        name="Th.INKA Rieth",
        district="Rieth",
        address=None,
        phone=None,
        email=None,
        hours=tuple(
            OpeningPeriod(d, time.fromisoformat(a), time.fromisoformat(b)) for d, a, b in periods
        ),
    )


WEEKDAYS_9_TO_12 = location(*((day, "09:00", "12:00") for day in range(5)))


def at(year, month, day, hour, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def test_during_office_hours():
    assert expected_answer([WEEKDAYS_9_TO_12], at(2026, 12, 1, 10), BERLIN).during_hours


def test_later_today_tomorrow_and_after_the_weekend():
    early = expected_answer([WEEKDAYS_9_TO_12], at(2026, 12, 1, 7), BERLIN)
    assert early.next_opening == datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    evening = expected_answer([WEEKDAYS_9_TO_12], at(2026, 12, 1, 18), BERLIN)
    assert evening.next_opening == datetime(2026, 12, 2, 9, tzinfo=BERLIN)
    friday = expected_answer([WEEKDAYS_9_TO_12], at(2026, 12, 4, 12), BERLIN)  # closes at 12
    assert friday.next_opening == datetime(2026, 12, 7, 9, tzinfo=BERLIN)


def test_daylight_saving_start_and_end_keep_local_opening_time():
    # Clocks go forward on Sunday 29 March 2026: Monday 9:00 is 07:00 UTC, not 08:00.
    spring = expected_answer([WEEKDAYS_9_TO_12], at(2026, 3, 28, 20), BERLIN)
    assert spring.next_opening.astimezone(UTC) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # Clocks go back on Sunday 25 October 2026: Monday 9:00 is 08:00 UTC.
    autumn = expected_answer([WEEKDAYS_9_TO_12], at(2026, 10, 24, 20), BERLIN)
    assert autumn.next_opening.astimezone(UTC) == datetime(2026, 10, 26, 8, tzinfo=UTC)


def test_earliest_of_several_locations_and_no_hours_at_all():
    tuesday = location((1, "13:00", "16:00"))
    wednesday = location((2, "08:00", "10:00"))
    result = expected_answer([wednesday, tuesday], at(2026, 12, 1, 10), BERLIN)
    assert result.next_opening == datetime(2026, 12, 1, 13, tzinfo=BERLIN)
    empty = location()
    assert expected_answer([empty], at(2026, 12, 1, 10), BERLIN).next_opening is None
    assert not expected_answer([empty], at(2026, 12, 1, 10), BERLIN).during_hours
