"""Events and broadcasts end to end: subscriptions, the staff's event dialogue, delivery in each
resident's language exactly once, RSVPs, edits, cancellations, scheduled publishing, blocked
users, 429 storms and a restart in the middle of a broadcast."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.app import SERVICES_KEY, running
from bot.events.repository import EventText
from bot.transport.courier import Limits
from tests.conftest import ADMIN_ID, Chat, eventually, make_application


async def subscribe(bot, chat: Chat, choice: str) -> None:
    """Consent, then answer the announcements question: "0", "1", "all" or "none"."""
    notice = await chat.send("/start")
    opt_in = await chat.press_data(notice, "consent:agree")
    await chat.press_data(opt_in, f"ev:optin:{choice}")


async def staff_says(admin: Chat, text: str):
    return await admin.send(text)


async def write_event(bot, admin: Chat, *, when="3.12. 17 Uhr", district="1", arabic=True):
    """The /newevent dialogue as a social worker types it; returns the preview message."""
    await staff_says(admin, "/newevent")
    await staff_says(admin, "Stadtteilkonferenz Rieth")
    await staff_says(admin, "Wir sprechen über den Spielplatz und die Müllabfuhr.")
    answer = await staff_says(admin, when)
    if "Uhr" not in when and ":" not in when:  # only a date: the bot asks for the time
        assert "03.12.2026" in answer.text
        answer = await staff_says(admin, "17 Uhr")
    assert "Do., 03.12.2026, 17:00 Uhr" in answer.text
    districts = await staff_says(admin, "Stadtteilladen, Julius-Leber-Ring")
    photo_question = await admin.press_data(districts, f"ne:d:{district}")
    translations = await admin.press_data(photo_question, "ne:nophoto")
    if arabic:
        await admin.press_data(translations, "ne:tr:ar")
        await staff_says(admin, "مؤتمر الحي (Stadtteilkonferenz) في Rieth")
        translations = await staff_says(admin, "نتحدث عن الملعب وجمع النفايات.")
    return await admin.press_data(translations, "ne:pv:de")


async def delivered(sandbox, services):
    await eventually(lambda: _idle_broadcasts(services))
    await sandbox.wait_for_idle()


async def _idle_broadcasts(services):
    rows = await services.db.fetchall(
        "SELECT 1 FROM outgoing WHERE batch_id IS NOT NULL AND status IN ('pending', 'sending')"
    )
    return not rows


async def test_an_event_reaches_each_subscriber_once_in_their_language(sandbox, bot, chat_as):
    services = bot
    amal, olga, dana = chat_as("ar", "Amal"), chat_as("ru", "Olga"), chat_as("de", "Dana")
    await subscribe(bot, amal, "1")  # Rieth
    await subscribe(bot, olga, "all")
    await subscribe(bot, dana, "none")
    assert await services.events.subscriptions(amal.id) == {"Rieth"}
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    preview = await write_event(bot, admin)
    assert "Stadtteilkonferenz Rieth" in preview.text
    arabic = await admin.press_data(preview, "ne:pv:ar")
    assert "مؤتمر الحي" in arabic.text
    before = {c.id: c.seen() for c in (amal, olga, dana)}
    await admin.press_data(arabic, "ne:publish")
    await delivered(sandbox, services)

    to_amal = sandbox.messages_to(amal.id)[before[amal.id] :]
    to_olga = sandbox.messages_to(olga.id)[before[olga.id] :]
    assert len(to_amal) == 1 and len(to_olga) == 1 and dana.seen() == before[dana.id]
    assert "مؤتمر الحي" in to_amal[0].text
    assert services.i18n.translator("ar")._("🙋 I'm coming") in to_amal[0].button_texts
    ru = services.i18n.translator("ru")
    assert ru._("This announcement is only available in German.") in to_olga[0].text
    assert "Stadtteilkonferenz Rieth" in to_olga[0].text
    assert ru.date(datetime(2026, 12, 3, 16, 0, tzinfo=UTC), "full") in to_olga[0].text

    progress = sandbox.messages_to(admin.id)[-1]
    assert progress.text.startswith("✅") and "2 von 2" in progress.text

    # "I'm coming": counted once, staff see the count.
    event_id = int(
        to_amal[0]
        .callback_data(services.i18n.translator("ar")._("🙋 I'm coming"))
        .rsplit(":", 1)[1]
    )
    for _ in range(2):
        await sandbox.press_button(amal.user, to_amal[0], f"ev:rsvp:{event_id}")
        await sandbox.wait_for_idle()
    assert await services.events.repo.rsvp_count(event_id) == 1
    listing = await admin.send("/events")
    assert "1 Person kommt" in listing.text


async def test_an_unclear_date_is_asked_back(sandbox, bot, chat_as):
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await staff_says(admin, "/newevent")
    await staff_says(admin, "Infoabend Wohngeld")
    await staff_says(admin, "Was ist Wohngeld, wer bekommt es?")
    for typed, expected in (
        ("irgendwann", "Datum"),
        ("31.02. 17 Uhr", "gibt es nicht"),
        ("1.12.2025 17:00", "Vergangenheit"),
    ):
        answer = await staff_says(admin, typed)
        assert expected in answer.text, answer.text
    await write_event(bot, admin, when="3.12.", arabic=False)


async def test_change_and_cancel_reach_only_those_who_got_it(sandbox, bot, chat_as):
    services = bot
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    await subscribe(bot, amal, "1")
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    preview = await write_event(bot, admin)
    await admin.press_data(preview, "ne:publish")
    await delivered(sandbox, services)
    await subscribe(bot, olga, "1")  # subscribed after the announcement
    seen = {amal.id: amal.seen(), olga.id: olga.seen()}
    listing = await admin.send("/events")
    time_button = next(
        b["callback_data"]
        for row in listing.buttons
        for b in row
        if b["callback_data"].startswith("se:time:")
    )
    event_id = int(time_button.rsplit(":", 1)[1])
    await admin.press_data(listing, f"se:time:{event_id}")
    await staff_says(admin, "4.12. 18 Uhr")
    await delivered(sandbox, services)
    changed = sandbox.messages_to(amal.id)[seen[amal.id] :]
    assert len(changed) == 1 and "✏️" in changed[0].text
    assert olga.seen() == seen[olga.id]
    await admin.press_data(listing, f"se:cancel:{event_id}")
    confirm = sandbox.messages_to(admin.id)[-1]
    await admin.press_data(confirm, f"se:cancelyes:{event_id}")
    await delivered(sandbox, services)
    assert "❌" in sandbox.messages_to(amal.id)[-1].text
    assert olga.seen() == seen[olga.id]
    assert (await services.events.repo.get(event_id)).status == "cancelled"


async def test_scheduled_publishing_fires_at_its_virtual_time(sandbox, bot, chat_as, clock):
    services = bot
    amal = chat_as("ar", "Amal")
    await subscribe(bot, amal, "all")
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    preview = await write_event(bot, admin)
    await admin.press_data(preview, "ne:schedule")
    answer = await staff_says(admin, "2.12.2026 08:00")
    assert "02.12.2026, 08:00" in answer.text
    seen = amal.seen()
    await services.events.run_due()
    await delivered(sandbox, services)
    assert amal.seen() == seen
    clock.set(datetime(2026, 12, 2, 7, 1, tzinfo=UTC))  # 08:01 in Erfurt
    await services.events.run_due()
    await services.events.run_due()
    await delivered(sandbox, services)
    assert amal.seen() == seen + 1


async def test_blocked_subscribers_are_marked_and_skipped(sandbox, bot, chat_as):
    services = bot
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    await subscribe(bot, amal, "all")
    await subscribe(bot, olga, "all")
    # Olga blocks the bot without Telegram telling it (e.g. the update was lost).
    olga.user.blocked = True
    result = await services.events.notice({"de": "Heute geschlossen."}, ("Rieth",), ADMIN_ID)
    await delivered(sandbox, services)
    progress = await services.events.repo.progress(result[0])
    assert (progress.sent, progress.blocked) == (1, 1)
    assert (await services.residents.find(olga.id)).blocked
    second = await services.events.notice({"de": "Morgen wieder offen."}, ("Rieth",), ADMIN_ID)
    assert second[1] == 1  # Olga is no longer a recipient


async def test_a_429_storm_pauses_only_the_broadcast(sandbox, bot, chat_as):
    services = bot
    residents = [chat_as("de", f"R{i}") for i in range(3)]
    for chat in residents:
        await subscribe(bot, chat, "all")
    dana = residents[0]
    sandbox.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 3", retry_after=3
    )
    await services.events.notice({"de": "Wichtige Information"}, ("Rieth",), ADMIN_ID)
    await eventually(lambda: _rate_limited(services))
    # The broadcast waits 3 s; a resident's question is answered at once all the same.
    started = time.monotonic()
    answer = await dana.send("/menu")
    assert time.monotonic() - started < 1.5
    assert "Wie können wir Ihnen helfen?" in answer.text
    await delivered(sandbox, services)
    for chat in residents:
        assert (
            sum("Wichtige Information" in (m.text or "") for m in sandbox.messages_to(chat.id)) == 1
        )


async def _rate_limited(services):
    return services.courier.stats.rate_limited >= 1


async def test_a_restart_in_the_middle_of_a_broadcast_sends_nobody_a_second_copy(
    sandbox, settings, clock, chat_as
):
    # At the production pace (25 a second): the restart comes while it is under way.
    application = make_application(settings, clock, limits=Limits(rate=25))
    chats = []
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        for i in range(40):  # subscribers straight into the database (faster than 40 chats)
            user = sandbox.add_user(first_name=f"S{i}", language_code="de")
            user.started = True
            chats.append(user)
            await services.residents.choose_language(user.id, user.id, "de")
            await services.residents.give_consent(user.id)
            await services.events.subscribe(user.id, {"Rieth"})
        await services.events.notice({"de": "Neue Sprechzeiten ab Montag"}, ("Rieth",), ADMIN_ID)

        async def some_sent():
            return sum(bool(sandbox.messages_to(u.id)) for u in chats) >= 10

        await eventually(some_sent)
    halfway = sum(bool(sandbox.messages_to(u.id)) for u in chats)
    assert halfway < 40  # the restart really came in the middle

    async with running(make_application(settings, clock, limits=Limits(rate=25))) as application:
        services = application.bot_data[SERVICES_KEY]
        await delivered(sandbox, services)
        copies = [len(sandbox.messages_to(u.id)) for u in chats]
        assert copies == [1] * 40


async def test_event_reminder_for_those_coming(sandbox, bot, chat_as, clock):
    services = bot
    amal = chat_as("ar", "Amal")
    await subscribe(bot, amal, "all")
    event = await services.events.create(
        starts_at=datetime(2026, 12, 3, 16, 0, tzinfo=UTC),
        place="Stadtteilladen",
        districts=("Rieth",),
        photo_file_id=None,
        texts={"de": EventText("Nachbarschaftsfest", "Mit Kaffee und Kuchen.")},
        staff_id=ADMIN_ID,
    )
    await services.events.publish(event.id, ADMIN_ID)
    await delivered(sandbox, services)
    await services.events.rsvp(event.id, amal.id)
    seen = amal.seen()
    clock.set(datetime(2026, 12, 2, 17, 0, tzinfo=UTC))  # 23 hours before
    await services.events.run_due()
    await services.events.run_due()
    await delivered(sandbox, services)
    reminders = sandbox.messages_to(amal.id)[seen:]
    assert len(reminders) == 1 and "⏰" in reminders[0].text


@pytest.mark.parametrize("command", ["/newevent", "/broadcast", "/cancel"])
async def test_residents_cannot_use_staff_event_commands(sandbox, bot, chat_as, command):
    dana = chat_as("de", "Dana")
    await subscribe(bot, dana, "none")
    answer = await dana.send(command)
    assert "Diesen Befehl kenne ich nicht" in answer.text
    assert await bot.events.repo.draft(dana.id) is None


async def test_unsubscribe_in_one_step(sandbox, bot, chat_as):
    olga = chat_as("ru", "Olga")
    await subscribe(bot, olga, "all")
    await olga.send("/unsubscribe")
    assert await bot.events.subscriptions(olga.id) == set()
    listing = await olga.send("/events")
    toggles = [
        d
        for row in listing.buttons
        for b in row
        if (d := b.get("callback_data", "")).startswith("ev:toggle:")
    ]
    await olga.press_data(listing, toggles[1])
    assert await bot.events.subscriptions(olga.id) == {"Rieth"}


async def test_a_plain_notice_through_the_dialogue(sandbox, bot, chat_as):
    amal = chat_as("ar", "Amal")
    await subscribe(bot, amal, "0")  # Berliner Platz
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await staff_says(admin, "/broadcast")
    districts = await staff_says(admin, "Heute ist die Kontaktstelle geschlossen.")
    translations = await admin.press_data(districts, "ne:d:all")
    preview = await admin.press_data(translations, "ne:pv:de")
    preview = await admin.press_data(preview, "ne:pv:ar")
    assert "Heute ist die Kontaktstelle geschlossen." in preview.text
    seen = amal.seen()
    await admin.press_data(preview, "ne:publish")
    await delivered(sandbox, bot)
    got = sandbox.messages_to(amal.id)[seen:]
    assert len(got) == 1 and "Heute ist die Kontaktstelle geschlossen." in got[0].text
    assert bot.i18n.translator("ar")._("This announcement is only available in German.") in (
        got[0].text
    )


async def test_an_event_with_a_photo_arrives_as_a_photo_with_its_text(sandbox, bot, chat_as):
    amal = chat_as("ar", "Amal")
    await subscribe(bot, amal, "all")
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await staff_says(admin, "/newevent")
    await staff_says(admin, "Nachbarschaftsfest")
    await staff_says(admin, "Mit Musik und Essen.")
    await staff_says(admin, "5.12.2026 15:00")
    districts = await staff_says(admin, "Hof am Berliner Platz")
    await admin.press_data(districts, "ne:d:all")
    before = admin.seen()
    await sandbox.send_photo(admin.user, caption=None)
    translations = await sandbox.wait_for_message(admin.id, after=before)
    preview = await admin.press_data(translations, "ne:pv:de")
    seen = amal.seen()
    await admin.press_data(preview, "ne:publish")
    await delivered(sandbox, bot)
    got = sandbox.messages_to(amal.id)[seen:]
    assert len(got) == 1 and got[0].kind == "photo" and "Nachbarschaftsfest" in got[0].text
