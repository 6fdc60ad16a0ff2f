"""The rules of appointments, straight on AppointmentService (demo office hours: Mon–Fri 9–12)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.appointments.repository import AppointmentRepository, SlotFull
from bot.appointments.service import AppointmentError, AppointmentService
from bot.core.i18n import STAFF_LANGUAGE
from bot.core.paths import DATA_DIR
from bot.org.orgdata import load_organisation
from tests.services.conftest import STAFF_ID

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def appointments(db, cases, clock, i18n) -> AppointmentService:
    return AppointmentService(
        AppointmentRepository(db),
        cases,
        load_organisation(DATA_DIR / "demo.toml"),
        clock,
        BERLIN,
        i18n.translator(STAFF_LANGUAGE),
    )


async def book(appointments, resident, location="berliner_platz", day_index=0, slot_index=0):
    place = appointments.location(location)
    day = (await appointments.bookable_days(place))[day_index]
    start = (await appointments.free_times(place, day))[slot_index]
    await appointments.begin(resident)
    await appointments.update(resident, topic="debt", location=location, day=day, starts_at=start)
    return await appointments.submit(resident, "Amal")


async def test_free_times_come_from_office_hours_in_the_future_only(appointments, clock):
    place = appointments.location("berliner_platz")
    days = await appointments.bookable_days(place)
    assert days and all(day.weekday() < 5 for day in days)
    for start in await appointments.free_times(place, days[0]):
        local = start.astimezone(BERLIN)
        assert 9 <= local.hour < 12 and start > clock.now()


async def test_a_request_opens_a_case_and_holds_the_seat(appointments, resident_factory):
    amal = await resident_factory()
    appointment = await book(appointments, amal)
    assert appointment.status == "requested"
    place = appointments.location("berliner_platz")
    day = appointment.starts_at.astimezone(BERLIN).date()
    assert appointment.starts_at not in await appointments.free_times(place, day)
    case = await appointments._cases.get(appointment.case_id)
    assert case.status == "new" and case.topic == "debt"


async def test_one_seat_is_never_given_twice_even_at_the_same_moment(
    appointments, resident_factory
):
    amal, olga = await resident_factory(1, "ar"), await resident_factory(2, "ru")
    place = appointments.location("berliner_platz")  # capacity 1
    day = (await appointments.bookable_days(place))[0]
    start = (await appointments.free_times(place, day))[0]
    for resident in (amal, olga):
        await appointments.begin(resident)
        await appointments.update(resident, location=place.key, day=day, starts_at=start)
    results = await asyncio.gather(
        appointments.submit(amal, "Amal"), appointments.submit(olga, "Olga"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Appointment", "SlotFull"]


async def test_an_incomplete_or_past_booking_is_refused(appointments, resident_factory, clock):
    amal = await resident_factory()
    await appointments.begin(amal)
    with pytest.raises(AppointmentError):
        await appointments.submit(amal, "Amal")
    with pytest.raises(AppointmentError):
        await appointments.update(amal, location="moon")
    await appointments.update(amal, location="berliner_platz", starts_at=clock.now())
    with pytest.raises(SlotFull):
        await appointments.submit(amal, "Amal")


async def test_confirm_then_mark_only_after_it_began(appointments, resident_factory, clock):
    amal = await resident_factory()
    appointment = await book(appointments, amal)
    assert (await appointments.confirm(appointment.id, STAFF_ID)).status == "confirmed"
    with pytest.raises(AppointmentError):
        await appointments.confirm(appointment.id, STAFF_ID)  # only a requested one
    with pytest.raises(AppointmentError):
        await appointments.mark(appointment.id, STAFF_ID, "done")  # not begun yet
    clock.set(appointment.starts_at + timedelta(minutes=5))
    assert (await appointments.mark(appointment.id, STAFF_ID, "no_show")).status == "no_show"
    with pytest.raises(ValueError):
        await appointments.mark(appointment.id, STAFF_ID, "maybe")


async def test_cancel_frees_the_seat_and_only_the_owner_may(appointments, resident_factory):
    amal, olga = await resident_factory(1, "ar"), await resident_factory(2, "ru")
    appointment = await book(appointments, amal)
    with pytest.raises(AppointmentError):
        await appointments.cancel(olga, appointment.id)
    assert (await appointments.cancel(amal, appointment.id)).status == "cancelled"
    place = appointments.location("berliner_platz")
    day = appointment.starts_at.astimezone(BERLIN).date()
    assert appointment.starts_at in await appointments.free_times(place, day)
    with pytest.raises(AppointmentError):
        await appointments.cancel(amal, appointment.id)


async def test_a_proposal_is_accepted_by_the_resident(appointments, resident_factory):
    amal = await resident_factory()
    appointment = await book(appointments, amal)
    place = appointments.location("berliner_platz")
    day = appointment.starts_at.astimezone(BERLIN).date()
    other = [t for t in await appointments.free_times(place, day) if t != appointment.starts_at]
    proposed = await appointments.propose(appointment.id, STAFF_ID, other[0])
    assert proposed.status == "proposed" and proposed.starts_at == other[0]
    assert (await appointments.accept(amal, appointment.id)).status == "confirmed"
    with pytest.raises(AppointmentError):
        await appointments.accept(amal, appointment.id)


async def test_a_closed_day_offers_no_times_and_names_what_is_booked(
    appointments, resident_factory
):
    amal = await resident_factory()
    appointment = await book(appointments, amal)
    day = appointment.starts_at.astimezone(BERLIN).date()
    affected = await appointments.close_day("berliner_platz", day, STAFF_ID)
    assert [a.id for a in affected] == [appointment.id]
    assert await appointments.free_times(appointments.location("berliner_platz"), day) == []
    with pytest.raises(AppointmentError):
        await appointments.close_day("moon", day, STAFF_ID)
