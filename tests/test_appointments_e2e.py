"""Appointments end to end, with a controllable clock: booking without typing, staff confirmation
from the staff group, the .ics file, proposals, cancellations, the capacity race, reminders
exactly once across a restart, daylight-saving weeks and dates in the resident's language."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.app import SERVICES_KEY, running
from bot.core.config import BUNDLED_CONFIG
from tests.conftest import Chat, agree, make_application

BERLIN = ZoneInfo("Europe/Berlin")
STAFF_A = 700_001
WEEKDAYS = ", ".join(
    f'{{ weekday = "{day}", opens = "09:00", closes = "12:00" }}'
    for day in ("mon", "tue", "wed", "thu", "fri")
)


@pytest.fixture
def org_file(tmp_path):
    path = tmp_path / "org.toml"
    path.write_text(
        BUNDLED_CONFIG.read_text("utf-8")
        .replace("hours = []", f"hours = [{WEEKDAYS}]")
        .replace("closed_days = []", "closed_days = [2026-12-24]"),
        "utf-8",
    )
    return path


@pytest.fixture
def staff(sandbox):
    return sandbox.add_user(first_name="Anna", language_code="de", user_id=STAFF_A)


@pytest.fixture
def group(sandbox, staff):
    return sandbox.add_group(
        title="Team", kind="supergroup", is_forum=True, members={STAFF_A: "administrator"}
    )


@pytest.fixture
def app_settings(settings, group, org_file):
    return replace(settings, staff_chat_id=group.id, config_path=org_file)


@pytest.fixture
async def services(app_settings, clock):
    application = make_application(app_settings, clock)
    async with running(application):
        yield application.bot_data[SERVICES_KEY]


def data_starting(message, prefix):
    return [
        b["callback_data"]
        for row in message.buttons
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


async def book(services, chat: Chat, location="rieth", day_index=0, time_index=0, note=None):
    """Menu → appointment → topic → location → day → time → (note) → send."""
    t = services.i18n.translator(chat.user.language_code)
    notice = await chat.send("/start")
    menu = await agree(chat, notice)
    topics = await chat.press(menu, t._("📅 Request an appointment"))
    locations = await chat.press_data(topics, "ap:t:debt")
    days = await chat.press_data(locations, f"ap:l:{location}")
    times = await chat.press_data(days, data_starting(days, "ap:d:")[day_index])
    summary = await chat.press_data(times, data_starting(times, "ap:s:")[time_index])
    if note:
        await chat.press_data(summary, "ap:note")
        summary = await chat.send(note)
    sent = await chat.press_data(summary, "ap:send")
    return summary, sent, t


async def confirmed_at(services, case_id, location, start):
    """A confirmed 30-minute appointment, set up directly (for reminder and digest tests)."""
    return await services.appointments.repo.request(
        case_id,
        location,
        start,
        start + timedelta(minutes=30),
        1,
        None,
        services.clock.now(),
        status="confirmed",
    )


async def staff_notice(sandbox, group, prefix):
    await sandbox.wait_for_idle()
    notices = [m for m in sandbox.messages_to(group.id) if data_starting(m, prefix)]
    assert notices, f"no staff notice with {prefix!r}"
    return notices[-1]


async def test_arabic_resident_books_staff_confirm_ics_and_reminders_once_across_restart(
    sandbox, app_settings, clock, group, staff, chat_as
):
    amal = chat_as("ar", "Amal")
    anna = Chat(sandbox, staff)
    application = make_application(app_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        summary, sent, t = await book(services, amal, note="عندي Mahnung")
        # Clock: Tue 1 Dec 2026 10:00 in Erfurt; 10:00 and later today are the first free slots.
        assert t.date(datetime(2026, 12, 1, 10, 30, tzinfo=BERLIN), "full") in summary.text
        assert t._("Thank you! Your request has been sent.") in sent.text
        appointment = (
            await services.appointments.upcoming(await services.residents.find(amal.id))
        )[0]
        assert appointment.status == "requested" and appointment.note == "عندي Mahnung"
        assert appointment.starts_at == datetime(2026, 12, 1, 10, 30, tzinfo=BERLIN)

        notice = await staff_notice(sandbox, group, "sa:confirm:")
        assert "Termin" in notice.text and "عندي Mahnung" in notice.text
        seen = amal.seen()
        await anna.press_data(notice, f"sa:confirm:{appointment.id}")
        await sandbox.wait_for_idle()
        confirmation, ics_message = sandbox.messages_to(amal.id)[seen : seen + 2]
        assert t._("Your appointment is confirmed.") in confirmation.text
        assert ics_message.kind == "document"
        calendar = Calendar.from_ical(sandbox.file_content(ics_message.raw["document"]["file_id"]))
        event = next(c for c in calendar.walk("VEVENT"))
        assert event.decoded("dtstart") == datetime(2026, 12, 1, 10, 30, tzinfo=BERLIN)
        assert event["dtstart"].params["TZID"] == "Europe/Berlin"
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
        assert "Th.INKA Rieth" in str(event["location"])

    # Book a slot two days ahead to see both reminders.
    async with running(make_application(app_settings, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        future = datetime(2026, 12, 3, 9, 0, tzinfo=BERLIN)
        resident = await services.residents.find(amal.id)
        case = (await services.cases.cases_of(resident))[0]
        appointment_id = await confirmed_at(services, case.id, "rieth", future)
        before = amal.seen()
        clock.set(future - timedelta(hours=24, minutes=-1))  # 23h59m before
        await services.reminders.run_due()
        await services.reminders.run_due()
        await sandbox.wait_for_idle()
        reminders = sandbox.messages_to(amal.id)[before:]
        assert len(reminders) == 1 and "⏰" in reminders[0].text

    # Restart: nothing is sent again; the 2-hour reminder comes at its time, once.
    async with running(make_application(app_settings, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        await services.reminders.run_due()
        await sandbox.wait_for_idle()
        assert amal.seen() == before + 1
        clock.set(future - timedelta(hours=2))
        await services.reminders.run_due()
        await services.reminders.run_due()
        await sandbox.wait_for_idle()
        assert amal.seen() == before + 2
        assert await services.appointments.repo.reminders_of(appointment_id) == {
            "24h": "sent",
            "2h": "sent",
        }


async def test_a_full_slot_cannot_be_taken_twice(sandbox, services, chat_as):
    first, second = chat_as("ru", "Olga"), chat_as("de", "Dana")
    t_de = services.i18n.translator("de")
    # Dana gets to the summary of the same slot first, but Olga sends first.
    notice = await second.send("/start")
    menu = await agree(second, notice)
    topics = await second.press(menu, t_de._("📅 Request an appointment"))
    locations = await second.press_data(topics, "ap:t:housing")
    days = await second.press_data(locations, "ap:l:rieth")
    times = await second.press_data(days, data_starting(days, "ap:d:")[0])
    chosen = data_starting(times, "ap:s:")[0]  # messages are live records: keep the value
    summary = await second.press_data(times, chosen)
    await book(services, first)
    refused = await second.press_data(summary, "ap:send")
    assert t_de._("Sorry, this time was just taken. Please choose another one.") in refused.text
    assert chosen not in data_starting(refused, "ap:s:")
    held = await services.db.fetchall("SELECT location, starts_at FROM slot_seats")
    assert len(held) == 1


async def test_capacity_is_enforced_by_sqlite_itself(services):
    db = services.db
    await db.execute("INSERT INTO residents (user_id, chat_id, language) VALUES (1, 1, 'de')")
    await db.execute(
        "INSERT INTO cases (id, resident_id, language, created_at) VALUES (1, 1, 'de', 'x')"
    )
    for i in (1, 2, 3):
        await db.execute(
            "INSERT INTO appointments (id, case_id, location, starts_at, ends_at, status,"
            " created_at, updated_at) VALUES (?, 1, 'rieth', 's', 'e', 'requested', 'x', 'x')",
            (i,),
        )
    await db.execute("INSERT INTO slot_seats VALUES (1, 'rieth', 's', 1, 1)")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await db.execute("INSERT INTO slot_seats VALUES (2, 'rieth', 's', 1, 1)")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        await db.execute("INSERT INTO slot_seats VALUES (3, 'rieth', 's', 2, 1)")


async def test_staff_propose_another_time_and_resident_accepts(
    sandbox, services, group, staff, chat_as
):
    olga = chat_as("ru", "Olga")
    anna = Chat(sandbox, staff)
    _, _, t = await book(services, olga)
    appointment = (await services.appointments.upcoming(await services.residents.find(olga.id)))[0]
    notice = await staff_notice(sandbox, group, "sa:propose:")
    days = await anna.press_data(notice, f"sa:propose:{appointment.id}")
    times = await anna.press_data(days, data_starting(days, "sa:pd:")[1])
    seen = olga.seen()
    await anna.press_data(times, data_starting(times, "sa:ps:")[2])
    proposal = await sandbox.wait_for_message(olga.id, after=seen)
    assert t._("We would like to offer you another time:") in proposal.text
    assert t.date(datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN), "full") in proposal.text
    moved = await services.appointments.repo.get(appointment.id)
    assert moved.status == "proposed" and moved.sequence == 1
    assert moved.starts_at == datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)
    await olga.press_data(proposal, f"ap:accept:{appointment.id}")
    await sandbox.wait_for_idle()
    assert (await services.appointments.repo.get(appointment.id)).status == "confirmed"
    ics = sandbox.messages_to(olga.id)[-1]
    event = Calendar.from_ical(sandbox.file_content(ics.raw["document"]["file_id"])).walk("VEVENT")[
        0
    ]
    assert event["sequence"] == 1


async def test_cancel_frees_the_slot_and_tells_staff(sandbox, services, group, chat_as):
    dana = chat_as("de", "Dana")
    _, _, t = await book(services, dana)
    listing = await dana.send("/appointments")
    appointment_id = int(data_starting(listing, "ap:cancel:")[0].rsplit(":", 1)[1])
    question = await dana.press_data(listing, f"ap:cancel:{appointment_id}")
    done = await dana.press_data(question, f"ap:cancelyes:{appointment_id}")
    assert t._("Your appointment has been cancelled.") in done.text
    assert (await services.appointments.repo.get(appointment_id)).status == "cancelled"
    assert await services.db.fetchall("SELECT * FROM slot_seats") == []
    await sandbox.wait_for_idle()
    assert any(
        f"T{appointment_id}" in (m.text or "") and "abgesagt" in (m.text or "")
        for m in sandbox.messages_to(group.id)
    )


async def test_decline_tells_the_resident_and_frees_the_slot(
    sandbox, services, group, staff, chat_as
):
    olga = chat_as("ru", "Olga")
    _, _, _t = await book(services, olga)
    appointment = (await services.appointments.upcoming(await services.residents.find(olga.id)))[0]
    notice = await staff_notice(sandbox, group, "sa:decline:")
    seen = olga.seen()
    await Chat(sandbox, staff).press_data(notice, f"sa:decline:{appointment.id}")
    answer = await sandbox.wait_for_message(olga.id, after=seen)
    assert "📅" in answer.button_texts[0]
    assert await services.db.fetchall("SELECT * FROM slot_seats") == []


async def test_residents_cannot_touch_each_others_appointments(sandbox, services, chat_as):
    olga, mallory = chat_as("ru", "Olga"), chat_as("de", "Mallory")
    await book(services, olga)
    appointment = (await services.appointments.upcoming(await services.residents.find(olga.id)))[0]
    notice = await mallory.send("/start")
    menu = await agree(mallory, notice)
    for data in (
        f"ap:cancelyes:{appointment.id}",
        f"ap:accept:{appointment.id}",
        f"ap:move:{appointment.id}",
        f"sa:confirm:{appointment.id}",
        f"sa:decline:{appointment.id}",
        f"sa:done:{appointment.id}",
    ):
        await sandbox.press_button(mallory.user, menu, data, forge=True)
        await sandbox.wait_for_idle()
    assert (await services.appointments.repo.get(appointment.id)).status == "requested"


async def test_reminder_due_during_downtime_is_sent_within_grace_and_skipped_after(
    sandbox, services, chat_as, clock
):
    dana = chat_as("de", "Dana")
    await book(services, dana)
    resident = await services.residents.find(dana.id)
    case = (await services.cases.cases_of(resident))[0]
    repo = services.appointments.repo
    soon = datetime(2026, 12, 4, 9, 0, tzinfo=BERLIN)
    later = datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    a = await confirmed_at(services, case.id, "rieth", soon)
    b = await confirmed_at(services, case.id, "rieth", later)
    clock.set(soon - timedelta(hours=24) + timedelta(minutes=90))  # bot was down 90 minutes
    await services.reminders.run_due()
    assert await repo.reminders_of(a) == {"24h": "sent"}
    clock.set(later - timedelta(hours=3))  # 24h reminder of b is 21 hours late: skipped
    await services.reminders.run_due()
    assert await repo.reminders_of(b) == {"24h": "skipped"}


async def test_daylight_saving_week_keeps_local_times(sandbox, app_settings, chat_as):
    from bot.core.clock import FrozenClock

    # Friday 27 March 2026, 18:00 in Erfurt; clocks go forward on Sunday 29 March.
    clock = FrozenClock(datetime(2026, 3, 27, 18, 0, tzinfo=BERLIN))
    async with running(make_application(app_settings, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        location = services.org.location("rieth")
        days = await services.appointments.bookable_days(location)
        assert days[0].isoformat() == "2026-03-30"
        first = (await services.appointments.free_times(location, days[0]))[0]
        assert first.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
        winter = (await services.appointments.free_times(location, datetime(2026, 10, 26).date()))[
            0
        ]
        assert winter.astimezone(UTC) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET


async def test_past_slots_closed_days_and_staff_closed_day(
    sandbox, services, staff, chat_as, clock
):
    location = services.org.location("rieth")
    today = clock.now().astimezone(BERLIN).date()
    times = await services.appointments.free_times(location, today)
    assert all(t > clock.now() for t in times) and times[0].hour == 10  # 09:xx passed
    # Closed in the organisation file (Berliner Platz only):
    assert (
        await services.appointments.free_times(
            services.org.location("berliner_platz"), datetime(2026, 12, 24).date()
        )
        == []
    )
    assert await services.appointments.free_times(location, datetime(2026, 12, 24).date())
    anna = Chat(sandbox, staff)
    await anna.send("/closed 2026-12-02 rieth")
    assert await services.appointments.free_times(location, datetime(2026, 12, 2).date()) == []
    assert await services.appointments.free_times(
        services.org.location("berliner_platz"), datetime(2026, 12, 2).date()
    )
    answer = await anna.send("/closed someday")
    assert "/closed" in answer.text


async def test_staff_mark_done_only_after_the_start(
    sandbox, services, group, staff, chat_as, clock
):
    dana = chat_as("de", "Dana")
    await book(services, dana)
    appointment = (await services.appointments.upcoming(await services.residents.find(dana.id)))[0]
    anna = Chat(sandbox, staff)
    notice = await staff_notice(sandbox, group, "sa:confirm:")
    confirmed = await anna.press_data(notice, f"sa:confirm:{appointment.id}")
    await sandbox.press_button(staff, confirmed, f"sa:done:{appointment.id}")
    await sandbox.wait_for_idle()
    assert (await services.appointments.repo.get(appointment.id)).status == "confirmed"
    clock.advance(timedelta(hours=2))
    await anna.press_data(confirmed, f"sa:done:{appointment.id}")
    assert (await services.appointments.repo.get(appointment.id)).status == "done"


@pytest.mark.parametrize("language", ["de", "ar", "ru"])
async def test_days_and_times_in_the_residents_language(sandbox, services, chat_as, language):
    chat = chat_as(language, "X")
    t = services.i18n.translator(language)
    notice = await chat.send("/start")
    menu = await agree(chat, notice)
    topics = await chat.press(menu, t._("📅 Request an appointment"))
    locations = await chat.press_data(topics, "ap:t:job")
    days = await chat.press_data(locations, "ap:l:berliner_platz")
    assert days.button_texts[0] == t.day_label(datetime(2026, 12, 1).date())
    times = await chat.press_data(days, data_starting(days, "ap:d:")[1])
    assert times.button_texts[0] == t.time(datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN))


async def at_summary(services, chat, slot_index=0):
    """A consented resident who has chosen the first day and a slot, not sent yet."""
    t = services.i18n.translator(chat.user.language_code)
    notice = await chat.send("/start")
    menu = await agree(chat, notice)
    topics = await chat.press(menu, t._("📅 Request an appointment"))
    locations = await chat.press_data(topics, "ap:t:family")
    days = await chat.press_data(locations, "ap:l:rieth")
    times = await chat.press_data(days, data_starting(days, "ap:d:")[0])
    return await chat.press_data(times, data_starting(times, "ap:s:")[slot_index]), t


async def test_two_residents_pressing_send_at_the_same_moment(sandbox, services, chat_as):
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    summary_a, t_ar = await at_summary(services, amal)
    summary_b, t_ru = await at_summary(services, olga)
    # Both presses are in Telegram's queue before the bot handles either.
    await sandbox.press_button(amal.user, summary_a, "ap:send")
    await sandbox.press_button(olga.user, summary_b, "ap:send")
    await sandbox.wait_for_idle()
    texts = [sandbox.messages_to(c.id)[-1].text for c in (amal, olga)]
    sent = [
        t_ar._("Thank you! Your request has been sent.") in texts[0],
        t_ru._("Thank you! Your request has been sent.") in texts[1],
    ]
    refused = [
        t_ar._("Sorry, this time was just taken. Please choose another one.") in texts[0],
        t_ru._("Sorry, this time was just taken. Please choose another one.") in texts[1],
    ]
    assert sorted(sent) == [False, True] and sent == [not r for r in refused]
    assert len(await services.db.fetchall("SELECT * FROM slot_seats")) == 1


async def test_move_from_the_confirmation(sandbox, services, group, staff, chat_as):
    dana = chat_as("de", "Dana")
    # In two days: one today or tomorrow is due for a reminder at once (2 h, 24 h before), and
    # the reminder pass (a job) could slip in between the presses below on a busy machine.
    _, _, _t = await book(services, dana, day_index=2)
    old = (await services.appointments.upcoming(await services.residents.find(dana.id)))[0]
    notice = await staff_notice(sandbox, group, "sa:confirm:")
    await Chat(sandbox, staff).press_data(notice, f"sa:confirm:{old.id}")
    # The appointment is within 24 hours: its reminder is due now. Send it here rather than
    # let the minute job drop it between the presses below (press_data returns the newest
    # message, which made this test fail now and then).
    await services.reminders.run_due()
    await sandbox.wait_for_idle()
    confirmation = next(
        m for m in sandbox.messages_to(dana.id) if data_starting(m, f"ap:move:{old.id}")
    )
    days = await dana.press_data(confirmation, f"ap:move:{old.id}")
    times = await dana.press_data(days, data_starting(days, "ap:d:")[1])
    summary = await dana.press_data(times, data_starting(times, "ap:s:")[0])
    await dana.press_data(summary, "ap:send")
    assert (await services.appointments.repo.get(old.id)).status == "cancelled"
    upcoming = await services.appointments.upcoming(await services.residents.find(dana.id))
    assert [a.status for a in upcoming] == ["requested"] and upcoming[0].case_id == old.case_id
    await sandbox.wait_for_idle()
    assert any(
        f"T{old.id}" in (m.text or "") and "🔁" in (m.text or "")
        for m in sandbox.messages_to(group.id)
    )


async def test_morning_digest_for_staff_once(sandbox, services, group, chat_as, clock):
    dana = chat_as("de", "Dana")
    await book(services, dana)
    resident = await services.residents.find(dana.id)
    case = (await services.cases.cases_of(resident))[0]
    tomorrow = datetime(2026, 12, 2, 9, 30, tzinfo=BERLIN)
    await confirmed_at(services, case.id, "berliner_platz", tomorrow)
    clock.set(datetime(2026, 12, 2, 7, 0, tzinfo=BERLIN))
    await services.reminders.run_due()
    await sandbox.wait_for_idle()
    digests = [
        m
        for m in sandbox.messages_to(group.id)
        if "📅" in (m.text or "") and "09:30" in (m.text or "")
    ]
    assert digests == []  # before 07:30
    clock.set(datetime(2026, 12, 2, 7, 31, tzinfo=BERLIN))
    await services.reminders.run_due()
    await services.reminders.run_due()
    await sandbox.wait_for_idle()
    digests = [
        m
        for m in sandbox.messages_to(group.id)
        if "09:30" in (m.text or "") and "Th.INKA Berliner Platz" in (m.text or "")
    ]
    assert len(digests) == 1 and f"#{case.id}" in digests[0].text


async def test_location_without_office_hours_says_so(sandbox, bot, chat_as):
    """The bundled organisation file has no hours yet: no slots, a clear answer, no dead end."""
    dana = chat_as("de", "Dana")
    t = bot.i18n.translator("de")
    notice = await dana.send("/start")
    menu = await agree(dana, notice)
    topics = await dana.press(menu, t._("📅 Request an appointment"))
    locations = await dana.press_data(topics, "ap:t:letter")
    answer = await dana.press_data(locations, "ap:l:rieth")
    assert "Th.INKA Rieth" in answer.text and "14" in answer.text
    assert t._("⬅️ Back to the menu") in answer.button_texts


async def test_stats_count_appointment_outcomes(sandbox, services, group, staff, chat_as, clock):
    dana = chat_as("de", "Dana")
    await book(services, dana)
    appointment = (await services.appointments.upcoming(await services.residents.find(dana.id)))[0]
    notice = await staff_notice(sandbox, group, "sa:confirm:")
    anna = Chat(sandbox, staff)
    confirmed = await anna.press_data(notice, f"sa:confirm:{appointment.id}")
    clock.advance(timedelta(hours=3))
    await anna.press_data(confirmed, f"sa:noshow:{appointment.id}")
    stats = await anna.send("/stats")
    t = services.i18n.translator("de")
    assert f"{t._('did not come')}: 1" in stats.text
    assert f"{t._('took place')}: 0" in stats.text


async def test_cancelling_a_confirmed_appointment_sends_a_calendar_cancellation(
    sandbox, services, group, staff, chat_as
):
    dana = chat_as("de", "Dana")
    await book(services, dana)
    appointment = (await services.appointments.upcoming(await services.residents.find(dana.id)))[0]
    notice = await staff_notice(sandbox, group, "sa:confirm:")
    await Chat(sandbox, staff).press_data(notice, f"sa:confirm:{appointment.id}")
    # The confirmation (and its .ics) goes through the courier: let it arrive first, or the
    # next message Dana gets may be it instead of the answer to /appointments.
    await sandbox.wait_for_idle()
    listing = await dana.send("/appointments")
    question = await dana.press_data(listing, f"ap:cancel:{appointment.id}")
    await dana.press_data(question, f"ap:cancelyes:{appointment.id}")
    await sandbox.wait_for_idle()
    files = [m for m in sandbox.messages_to(dana.id) if m.kind == "document"]
    assert len(files) == 2  # the confirmation's .ics, then the cancellation
    calendar = Calendar.from_ical(sandbox.file_content(files[-1].raw["document"]["file_id"]))
    event = calendar.walk("VEVENT")[0]
    assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == f"appointment-{appointment.id}@thinka-erfurt"
    assert event["sequence"] == 1


async def test_without_a_staff_group_requests_are_confirmed_from_the_queue(
    sandbox, settings, org_file, clock, chat_as
):
    """The admin never wrote to the bot, so no notice can reach them; /queue still shows the
    request with its buttons."""
    from tests.conftest import ADMIN_ID

    app_settings = replace(settings, config_path=org_file)  # no staff group
    async with running(make_application(app_settings, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        dana = chat_as("de", "Dana")
        await book(services, dana)
        admin = chat_as("de", "Admin", user_id=ADMIN_ID)
        welcome = await admin.send("/start")
        t = services.i18n.translator("de")
        assert "/queue" in welcome.text and t._("Do you agree?") not in welcome.text
        queue = await admin.send("/queue")
        view = await admin.press(queue, queue.button_texts[0])
        appointment = (
            await services.appointments.upcoming(await services.residents.find(dana.id))
        )[0]
        assert f"T{appointment.id}" in view.text
        seen = dana.seen()
        await admin.press_data(view, f"sa:confirm:{appointment.id}")
        assert (await services.appointments.repo.get(appointment.id)).status == "confirmed"
        confirmation = await sandbox.wait_for_message(dana.id, after=seen)
        assert t._("Your appointment is confirmed.") in confirmation.text


async def test_deleting_data_erases_the_appointment_note_and_frees_the_slot(services, chat_as):
    dana = chat_as("de", "Dana")
    _, _, t = await book(services, dana, note="Meine Schulden bei der Stadtwerke-Mahnung")
    question = await dana.send("/delete")
    await dana.press(question, t._("🗑 Yes, delete everything"))
    rows = await services.db.fetchall("SELECT status, note FROM appointments")
    assert [(r["status"], r["note"]) for r in rows] == [("cancelled", None)]
    assert await services.db.fetchall("SELECT * FROM slot_seats") == []
    assert await services.db.fetchall("SELECT * FROM staff_notices") == []
    assert await services.db.fetchall("SELECT * FROM appointment_drafts") == []
