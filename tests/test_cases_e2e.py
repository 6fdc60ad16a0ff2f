"""Requests and the staff queue end to end: residents ask, staff answer in forum topics, nothing
gets lost — against the sandbox over HTTP, with the real Application."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import SERVICES_KEY, running
from bot.core.outgoing import Outgoing
from bot.sandbox import BotApiSandbox
from tests.conftest import ADMIN_ID, Chat, agree, eventually, make_application

STAFF_A = 700_001
STAFF_B = 700_002


@pytest.fixture
def staff(sandbox):
    a = sandbox.add_user(first_name="Anna", language_code="de", user_id=STAFF_A)
    b = sandbox.add_user(first_name="Boris", language_code="de", user_id=STAFF_B)
    return a, b


@pytest.fixture
def group(sandbox: BotApiSandbox, staff):
    return sandbox.add_group(
        title="Th.INKA Team",
        kind="supergroup",
        is_forum=True,
        members={STAFF_A: "administrator", STAFF_B: "member"},
    )


@pytest.fixture
def staff_settings(settings, group):
    return replace(settings, staff_chat_id=group.id)


@pytest.fixture
async def services(staff_settings, clock):
    application = make_application(staff_settings, clock)
    async with running(application):
        yield application.bot_data[SERVICES_KEY]


async def request(services, chat: Chat, text: str, topic_label: str, district: str = "Rieth"):
    """A consented resident asks a question through the menu; returns the confirmation."""
    t = services.i18n.translator(chat.user.language_code)
    notice = await chat.send("/start")
    menu = await agree(chat, notice)
    topics = await chat.press(menu, t._("✍️ Ask a question"))
    label = next(b for b in topics.button_texts if t._(topic_label) in b)
    districts = await chat.press(topics, label)
    if district:
        await chat.press(districts, f"📍 {district}")
    confirmation = await chat.ask(text)
    return confirmation, t


def topic_messages(sandbox, group, thread_id):
    return [m for m in sandbox.messages_to(group.id) if m.message_thread_id == thread_id]


async def case_topic(sandbox, services, case_id):
    """The case once its topic exists and every resident message is copied into it (so no
    relay is still under way when a test goes on)."""

    async def relayed():
        case = await services.cases.repo.get(case_id)
        incoming = [m for m in await services.cases.repo.messages(case_id) if m.direction == "in"]
        done = case.thread_id is not None and all(m.relay_status == "sent" for m in incoming)
        return case if done else None

    case = await eventually(relayed)
    await sandbox.wait_for_idle()
    return case


async def test_two_residents_reach_staff_in_their_own_topics(
    sandbox, services, group, chat_as, staff
):
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    conf_ar, t_ar = await request(services, amal, "عندي رسالة Mahnung", "Debt")
    conf_ru, _t_ru = await request(
        services, olga, "Нужна помощь с поиском жилья", "Housing search", "Berliner Platz"
    )
    assert (
        t_ar._("Thank you! Your request %(number)s has been received.").split("%")[0][:10]
        in conf_ar.text
    )
    assert "#1" in conf_ar.text and "#2" in conf_ru.text
    assert t_ar._("➕ New question") in conf_ar.button_texts

    case_ar = await case_topic(sandbox, services, 1)
    case_ru = await case_topic(sandbox, services, 2)
    topics = sandbox.topics(group)
    assert topics[case_ar.thread_id]["name"] == "🆕 #1 Schulden · ar · Rieth"
    assert topics[case_ru.thread_id]["name"] == "🆕 #2 Wohnungssuche · ru · Berliner Platz"

    in_ar = topic_messages(sandbox, group, case_ar.thread_id)
    card, copied = in_ar[0], in_ar[1]
    assert "Amal" in card.text and "العربية (ar)" in card.text
    assert card.button_texts[:2] == ["✋ Übernehmen", "✅ Schließen"]
    assert copied.text == "عندي رسالة Mahnung"
    assert [m.text for m in topic_messages(sandbox, group, case_ru.thread_id)][1] == (
        "Нужна помощь с поиском жилья"
    )

    # A staff answer in Amal's topic reaches Amal, and only Amal.
    seen_olga = olga.seen()
    sent = await sandbox.send_message(
        staff[0],
        "مرحبا أمل، أحضري الرسالة يوم الثلاثاء",
        chat=group,
        message_thread_id=case_ar.thread_id,
    )
    reply = await sandbox.wait_for_message(amal.id)
    assert reply.text == "مرحبا أمل، أحضري الرسالة يوم الثلاثاء"
    await sandbox.wait_for_idle()
    assert olga.seen() == seen_olga
    assert sandbox.reactions(group.id, sent["message_id"]) == ["👍"]  # delivered
    assert (await services.cases.repo.get(1)).status == "waiting"
    assert sandbox.topics(group)[case_ar.thread_id]["name"].startswith("⏳ #1")


async def test_more_messages_continue_the_case_and_are_confirmed_once(
    sandbox, services, group, chat_as
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال أول", "Official letter")
    before = amal.seen()
    second = await sandbox.send_message(amal.user, "وسؤال ثانٍ")
    await sandbox.send_photo(amal.user, caption="صفحة 1", media_group_id="album-1")
    await sandbox.send_photo(amal.user, caption="صفحة 2", media_group_id="album-1")
    await sandbox.send_document(amal.user, file_name="Bescheid.pdf")
    await sandbox.send_voice(amal.user)
    await sandbox.wait_for_idle()
    assert amal.seen() == before  # no second confirmation, no other text
    assert sandbox.reactions(amal.id, second["message_id"]) == ["👍"]
    case = await case_topic(sandbox, services, 1)
    kinds = [m.kind for m in topic_messages(sandbox, group, case.thread_id)[1:]]
    assert kinds == ["text", "text", "photo", "photo", "document", "voice"]
    stored = await services.cases.repo.messages(1)
    assert len(stored) == 6 and all(m.relay_status == "sent" for m in stored)


async def test_a_message_without_a_case_asks_topic_and_district_then_is_not_retyped(
    sandbox, services, group, chat_as
):
    olga = chat_as("ru", "Olga")
    t = services.i18n.translator("ru")
    notice = await olga.send("/start")
    await agree(olga, notice)
    topics = await olga.send("Мне пришло письмо из Jobcenter")
    assert t._("What is your question about?") in topics.text
    districts = await olga.press(
        topics, next(b for b in topics.button_texts if t._("Official letter") in b)
    )
    # The letter from the Jobcenter matches quick answers; she still wants to ask.
    confirmation = await olga.past_suggestions(await olga.press(districts, "📍 Rieth"))
    assert "#1" in confirmation.text
    case = await case_topic(sandbox, services, 1)
    assert topic_messages(sandbox, group, case.thread_id)[1].text == (
        "Мне пришло письмо из Jobcenter"
    )
    # The district is remembered: the next request skips that question.
    menu = await olga.send("/menu")
    topics = await olga.press(menu, t._("✍️ Ask a question"))
    prompt = await olga.press(topics, next(b for b in topics.button_texts if t._("Debt") in b))
    assert (
        t._(
            "Please write your question now. You can also send a photo of a letter, a "
            "document (PDF) or a voice message."
        )
        in prompt.text
    )
    assert (await services.residents.find(olga.id)).district == "Rieth"


def _write_units(statements: list[str], tables: tuple[str, ...]) -> list[list[str]]:
    """The commits among `statements` (SQLite's trace) that wrote to one of `tables`: a
    BEGIN … COMMIT, or a write outside one (it commits on its own)."""
    units, current = [], None
    for sql in statements:
        verb = sql.split(None, 1)[0].upper()
        if verb == "BEGIN":
            current = []
        elif verb in ("COMMIT", "ROLLBACK"):
            if current and verb == "COMMIT":
                units.append(current)
            current = None
        elif verb in ("INSERT", "UPDATE", "DELETE") and any(
            f" {table} " in f" {sql} " for table in tables
        ):
            if current is None:
                units.append([sql])
            else:
                current.append(sql)
    return units


async def test_each_step_of_a_request_is_written_in_one_transaction(
    sandbox, services, group, chat_as
):
    """Issue 18: the district press wrote the resident's district and the case's in two
    commits (two waits for the disk, and a crash between them left half a step); the message
    that completes a request stored it, then submitted it, in two more. One each now."""
    olga = chat_as("ru", "Olga")
    t = services.i18n.translator("ru")
    menu = await agree(olga, await olga.send("/start"))
    topics = await olga.press(menu, t._("✍️ Ask a question"))
    districts = await olga.press(topics, next(b for b in topics.button_texts if t._("Debt") in b))
    statements: list[str] = []
    services.db._conn.set_trace_callback(statements.append)
    try:
        prompt = await olga.press(districts, "📍 Rieth")
        district_step = len(statements)
        await olga.past_suggestions(await olga.ask("Ich habe eine Mahnung bekommen."))
        await sandbox.wait_for_idle()
    finally:
        services.db._conn.set_trace_callback(None)
    assert "📍" not in str(prompt.buttons)  # past the district question
    tables = ("residents", "cases", "case_messages", "selfhelp_events")
    [district] = _write_units(statements[:district_step], tables)
    assert [sql.split(" SET ")[0] for sql in district] == ["UPDATE residents", "UPDATE cases"]
    # the message (stored, offered quick answers) and "I still want to ask" (submitted)
    # The message (stored, quick answers offered) and "I still want to ask" (submitted); the
    # other commits are the courier's, settling the topic, the card and the copy.
    own = ("INTO case_messages", "SET suggested", "SET status", "'asked'")
    steps = [
        unit
        for unit in _write_units(statements[district_step:], tables)
        if any(mark in sql for sql in unit for mark in own)
    ]
    assert [[mark for mark in own if any(mark in sql for sql in unit)] for unit in steps] == [
        ["INTO case_messages", "SET suggested"],
        ["SET status", "'asked'"],  # the offered answers were not enough: counted with it
    ]


async def test_staff_commands_in_a_topic(sandbox, services, group, chat_as, staff):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Family")
    case = await case_topic(sandbox, services, 1)
    anna = staff[0]

    async def in_topic(text):
        sent = await sandbox.send_message(anna, text, chat=group, message_thread_id=case.thread_id)
        await sandbox.wait_for_idle()
        return sent

    seen = amal.seen()
    await in_topic("/note Frau A. war schon beim Jobcenter")
    assert amal.seen() == seen  # a note is never relayed
    notes = [m for m in await services.cases.repo.messages(1) if m.direction == "note"]
    assert notes[0].text == "Frau A. war schon beim Jobcenter"

    await in_topic("/take")
    assert sandbox.topics(group)[case.thread_id]["name"].startswith("🟡 #1")
    card = topic_messages(sandbox, group, case.thread_id)[0]
    assert str(STAFF_A) in card.text

    await in_topic("/t bring_letter")
    template = services.org.template("bring_letter")
    assert amal.last().text == template.text("ar")
    assert template.text("de") in topic_messages(sandbox, group, case.thread_id)[-1].text

    await in_topic("/close")
    assert sandbox.topics(group)[case.thread_id]["closed"] is True
    assert "#1" in amal.last().text  # told, in Arabic
    assert (await services.cases.repo.get(1)).status == "closed"
    await in_topic("/reopen")
    assert sandbox.topics(group)[case.thread_id]["closed"] is False
    actions = [a for _, a, _ in await services.cases.repo.audit_trail(1)]
    assert actions == ["note", "take", "template", "close", "reopen"]


async def test_attachments_and_voice_relay_both_ways(sandbox, services, group, chat_as, staff):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Job application")
    case = await case_topic(sandbox, services, 1)
    await sandbox.send_photo(
        staff[1], caption="Formular", chat=group, message_thread_id=case.thread_id
    )
    photo = await sandbox.wait_for_message(amal.id)
    assert photo.kind == "photo" and photo.text == "Formular"
    await sandbox.send_voice(staff[1], chat=group, message_thread_id=case.thread_id)
    voice = await sandbox.wait_for_message(amal.id)
    assert voice.kind == "voice"
    await sandbox.send_document(
        staff[1], file_name="Antrag.pdf", chat=group, message_thread_id=case.thread_id
    )
    document = await sandbox.wait_for_message(amal.id)
    assert document.kind == "document" and document.raw["document"]["file_name"] == "Antrag.pdf"


async def test_residents_and_outsiders_can_never_act_as_staff(
    sandbox, services, group, chat_as, staff
):
    amal, mallory = chat_as("ar", "Amal"), chat_as("de", "Mallory")
    await request(services, amal, "سؤال خاص", "Debt")
    await case_topic(sandbox, services, 1)
    notice = await mallory.send("/start")
    menu = await agree(mallory, notice)
    for command in ("/queue", "/take", "/close", "/t bring_letter", "/note x", "/stats"):
        answer = await mallory.send(command)
        assert (
            services.i18n.translator("de")._("I do not know this command. Please use the menu:")
            in answer.text
        )
    for data in (
        "case:close:1",
        "case:take:1",
        "case:send:1:bring_letter",
        "q:read:1",
        "q:reply:1",
        "q:close:1",
        "q:open:1",
    ):
        await sandbox.press_button(mallory.user, menu, data, forge=True)
        await sandbox.wait_for_idle()
    fresh = await services.cases.repo.get(1)
    assert fresh.status == "new" and fresh.assignee_id is None
    assert await services.cases.repo.audit_trail(1) == []
    assert all("سؤال خاص" not in (m.text or "") for m in sandbox.messages_to(mallory.id))
    assert len(await services.cases.repo.messages(1)) == 1  # nothing was sent to Amal
    # Somebody who leaves the staff group loses access once the short cache expires.
    sandbox.set_member_status(group, STAFF_B, "left")
    services.clock.advance(timedelta(minutes=5))
    boris = Chat(sandbox, staff[1])
    answer = await boris.send("/queue")
    assert "#1" not in answer.text
    anna = Chat(sandbox, staff[0])
    assert "#1" in (await anna.send("/queue")).text


async def test_duplicate_delivery_creates_no_second_case_or_relay(
    sandbox, services, group, chat_as
):
    olga = chat_as("ru", "Olga")
    await request(services, olga, "Первое сообщение", "Other question")
    case = await case_topic(sandbox, services, 1)
    message = await sandbox.send_message(olga.user, "Повтор")
    await sandbox.wait_for_idle()
    await case_topic(sandbox, services, 1)  # "Повтор" is in the topic
    copies = len(topic_messages(sandbox, group, case.thread_id))
    await sandbox.redeliver(message)
    await sandbox.redeliver(message)
    await sandbox.wait_for_idle()
    assert len(topic_messages(sandbox, group, case.thread_id)) == copies
    assert [m.text for m in await services.cases.repo.messages(1)] == ["Первое сообщение", "Повтор"]
    assert len(await services.cases.repo.for_resident(olga.id)) == 1


async def test_restart_loses_nothing(sandbox, staff_settings, clock, group, chat_as, staff):
    """The bot cannot open topics at first (no admin rights); the request waits in the
    database, survives a restart and reaches staff once the group is set up right."""
    amal = chat_as("ar", "Amal")
    sandbox.set_member_status(group, sandbox.bot_id, "member")  # no right to manage topics
    application = make_application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await request(services, amal, "رسالة قبل إعادة التشغيل", "Debt")
        await sandbox.wait_for_idle()
        assert sandbox.topics(group) == {}
        pending = await services.cases.repo.messages(1)
        assert [m.relay_status for m in pending] == ["pending"]

    sandbox.set_member_status(group, sandbox.bot_id, "administrator")
    application = make_application(staff_settings, clock)  # a new process, same database
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        case = await case_topic(sandbox, services, 1)
        assert [m.text for m in topic_messages(sandbox, group, case.thread_id)][1] == (
            "رسالة قبل إعادة التشغيل"
        )
        # The conversation goes on in the same case.
        await sandbox.send_message(amal.user, "وبعد إعادة التشغيل")
        await sandbox.wait_for_idle()
        assert [m.text for m in topic_messages(sandbox, group, case.thread_id)][-1] == (
            "وبعد إعادة التشغيل"
        )
        assert len(await services.cases.repo.for_resident(amal.id)) == 1


async def test_blocked_resident_is_reported_to_staff(sandbox, services, group, chat_as, staff):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    await sandbox.block_bot(amal.user)
    await sandbox.wait_for_idle()
    sent = await sandbox.send_message(
        staff[0], "Antwort", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_idle()
    notices = [m.text for m in topic_messages(sandbox, group, case.thread_id)]
    assert any("blockiert" in (text or "") for text in notices)
    stored = [m for m in await services.cases.repo.messages(1) if m.direction == "out"]
    assert stored[0].relay_status == "failed"
    assert sandbox.reactions(group.id, sent["message_id"]) == []  # no false "delivered"
    assert (await services.cases.repo.get(1)).resident_blocked


async def test_queue_works_without_a_staff_group(sandbox, bot, chat_as):
    """No THINKA_STAFF_CHAT_ID: an admin works the queue from a private chat."""
    services = bot
    olga = chat_as("ru", "Olga")
    await request(services, olga, "Вопрос без группы", "Debt")
    await sandbox.send_photo(olga.user, caption="Письмо")
    await sandbox.wait_for_idle()
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    queue = await admin.send("/queue")
    assert "#1" in queue.text and "Schulden" in queue.text
    case_view = await admin.press(queue, queue.button_texts[0])
    read_from = admin.seen()
    await admin.press(case_view, "📖 Nachrichten lesen")
    shown = sandbox.messages_to(admin.id)[read_from:]
    assert "Вопрос без группы" in [m.text for m in shown]
    assert "photo" in [m.kind for m in shown]
    view = sandbox.messages_to(admin.id)[-1]
    armed = await admin.press(view, "✍️ Antworten")
    assert "#1" in armed.text
    before = olga.seen()
    await sandbox.send_message(admin.user, "Kommen Sie bitte am Dienstag vorbei.")
    reply = await sandbox.wait_for_message(olga.id, after=before)
    assert reply.text == "Kommen Sie bitte am Dienstag vorbei."
    # The target was used up: the next message of the admin goes nowhere near Olga.
    await sandbox.send_message(admin.user, "Notiz an mich selbst")
    await sandbox.wait_for_idle()
    assert olga.seen() == before + 1
    queue = await admin.send("/queue")
    case_view = await admin.press(queue, queue.button_texts[0])
    closed = await admin.press(case_view, "✅ Schließen")
    assert (await services.cases.repo.get(1)).status == "closed"
    assert "#1" in olga.last().text and closed is not None
    assert "Keine offenen Fälle" in (await admin.send("/queue")).text


async def test_staff_text_without_a_chosen_case_is_asked_which_case(sandbox, bot, chat_as):
    """A social worker who opens a case and types without pressing "✍️ Antworten" is answered as
    staff (which case?, the open cases as buttons), never with the residents' privacy notice, and
    nothing reaches the resident."""
    olga = chat_as("ru", "Olga")
    await request(bot, olga, "Вопрос без группы", "Debt")
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    queue = await admin.send("/queue")
    await admin.press(queue, queue.button_texts[0])
    before = olga.seen()
    answer = await admin.send("Guten Tag, bitte bringen Sie den Brief mit.")
    assert "Zu welchem Fall?" in answer.text
    assert "Einverstanden" not in " ".join(answer.button_texts)
    assert any("Schulden" in label for label in answer.button_texts)
    await sandbox.wait_for_idle()
    assert olga.seen() == before
    assert await bot.residents.find(ADMIN_ID) is None  # no resident record for staff


async def test_mycases_lists_only_the_residents_own_cases(sandbox, services, group, chat_as):
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    await request(services, amal, "سؤال", "Debt")
    await request(services, olga, "Вопрос", "Family")
    mine = await olga.send("/mycases")
    assert "#2" in mine.text and "#1" not in mine.text


async def test_deleting_data_erases_case_content_and_tells_staff(
    sandbox, services, group, chat_as, staff
):
    amal = chat_as("ar", "Amal")
    _, t = await request(services, amal, "نص سري للغاية", "Debt")
    case = await case_topic(sandbox, services, 1)
    question = await amal.send("/delete")
    await amal.press(question, t._("🗑 Yes, delete everything"))
    await sandbox.wait_for_idle()
    fresh = await services.cases.repo.get(1)
    assert fresh.resident_id is None and fresh.first_name is None and fresh.status == "closed"
    assert await services.cases.repo.messages(1) == []
    rows = await services.db.fetchall("SELECT text FROM case_messages")
    assert rows == []
    # The copies in the staff group go with the case's topic.
    assert sandbox.topics(group)[case.thread_id]["deleted"] is True
    assert topic_messages(sandbox, group, case.thread_id) == []


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        (
            (2026, 12, 1, 10, 0),
            ("A social worker will answer you during today's office hours.", {}),
        ),
        (
            (2026, 12, 1, 18, 0),
            ("A social worker will answer you tomorrow from %(time)s.", {"time": "09:00"}),
        ),
        (
            (2026, 12, 4, 18, 0),
            (
                "A social worker will answer you on %(day)s from %(time)s.",
                {"time": "09:00", "day": "понедельник"},
            ),
        ),
    ],
)
async def test_confirmation_says_when_to_expect_an_answer(
    sandbox, settings, clock, chat_as, tmp_path, local_time, expected
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.core.config import BUNDLED_CONFIG

    weekdays = ", ".join(
        f'{{ weekday = "{day}", opens = "09:00", closes = "12:00" }}'
        for day in ("mon", "tue", "wed", "thu", "fri")
    )
    config = tmp_path / "org.toml"
    config.write_text(
        BUNDLED_CONFIG.read_text("utf-8").replace("hours = []", f"hours = [{weekdays}]"), "utf-8"
    )
    clock.set(datetime(*local_time, tzinfo=ZoneInfo("Europe/Berlin")))
    application = make_application(replace(settings, config_path=config), clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        confirmation, t = await request(services, chat_as("ru", "Olga"), "Вопрос", "Debt")
        message, values = expected
        assert t._(message) % values in confirmation.text


async def test_an_edit_in_a_case_topic_is_explained_not_relayed(
    sandbox, services, group, chat_as, staff
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    sent = await sandbox.send_message(
        staff[0], "Antwort mit Tippfeler", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_message(amal.id)
    seen = amal.seen()
    await sandbox.edit_message(staff[0], sent, "Antwort mit Tippfehler")
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    assert topic_messages(sandbox, group, case.thread_id)[-1].text.startswith("✏️")


async def test_a_relay_that_failed_is_retried_from_the_database_after_restart(
    sandbox, staff_settings, clock, group, chat_as, staff
):
    """Telegram answers copyMessage with a 500 (a network error to the bot): the staff answer
    stays pending in the database, survives a restart and is delivered exactly once."""
    amal = chat_as("ar", "Amal")
    application = make_application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await request(services, amal, "سؤال", "Debt")
        case = await case_topic(sandbox, services, 1)
        seen = amal.seen()
        sandbox.fail_next("copyMessage", status=500)
        sent = await sandbox.send_message(
            staff[0], "Antwort trotz Störung", chat=group, message_thread_id=case.thread_id
        )
        await sandbox.wait_for_idle()
        out = [m for m in await services.cases.repo.messages(1) if m.direction == "out"]
        assert out[0].relay_status == "pending"
        # Its queued delivery was tried once and waits for its back-off, in the database.
        (row,) = await Outgoing(services.db).rows(case_id=1, status="pending")
        assert row.key == f"answer:{out[0].id}" and row.attempts == 1
        assert amal.seen() == seen

    clock.advance(timedelta(seconds=5))  # past the back-off
    application = make_application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        reply = await sandbox.wait_for_message(amal.id, after=seen)
        assert reply.text == "Antwort trotz Störung"
        await sandbox.wait_for_idle()
        assert amal.seen() == seen + 1  # exactly once
        assert sandbox.reactions(group.id, sent["message_id"]) == ["👍"]
        out = [m for m in await services.cases.repo.messages(1) if m.direction == "out"]
        assert out[0].relay_status == "sent"


async def test_flood_wait_on_relay_keeps_the_message_and_retries_after_it(
    sandbox, services, group, chat_as, staff
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    # More 429s than python-telegram-bot's rate limiter retries (3): the relay must keep it.
    sandbox.fail_next(
        "copyMessage",
        status=429,
        description="Too Many Requests: retry after 1",
        times=4,
        retry_after=1,
    )
    await sandbox.send_message(staff[0], "Antwort", chat=group, message_thread_id=case.thread_id)

    async def waiting():
        rows = await Outgoing(services.db).rows(case_id=1, status="pending")
        return [r for r in rows if r.key and r.key.startswith("answer:") and r.error == "429"]

    await eventually(waiting)
    out = [m for m in await services.cases.repo.messages(1) if m.direction == "out"]
    assert out[0].relay_status == "pending" and amal.seen() == seen
    services.clock.advance(timedelta(seconds=2))
    services.courier.kick()
    reply = await sandbox.wait_for_message(amal.id, after=seen, timeout=15)
    assert reply.text == "Antwort"


async def test_a_residents_answer_updates_the_topic_and_a_stale_reply_target_expires(
    sandbox, services, group, chat_as, staff
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    await sandbox.send_message(staff[0], "Antwort", chat=group, message_thread_id=case.thread_id)
    await sandbox.wait_for_message(amal.id)
    await sandbox.wait_for_idle()
    assert sandbox.topics(group)[case.thread_id]["name"].startswith("⏳")
    await sandbox.send_message(amal.user, "شكرا، ولكن عندي سؤال آخر")
    await sandbox.wait_for_idle()
    assert sandbox.topics(group)[case.thread_id]["name"].startswith("🟡")  # taken by the reply

    anna = Chat(sandbox, staff[0])
    queue = await anna.send("/queue")
    view = await anna.press(queue, queue.button_texts[0])
    await anna.press(view, "✍️ Antworten")
    services.clock.advance(timedelta(minutes=20))
    seen = amal.seen()
    await sandbox.send_message(staff[0], "Das war für jemand anderen gedacht")
    await sandbox.wait_for_idle()
    assert amal.seen() == seen


async def test_answering_a_closed_case_is_refused_plainly(sandbox, services, group, chat_as, staff):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    await sandbox.send_message(staff[0], "/close", chat=group, message_thread_id=case.thread_id)
    await sandbox.wait_for_idle()
    seen = amal.seen()
    await sandbox.send_message(
        staff[0], "Noch eine Antwort", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    warning = topic_messages(sandbox, group, case.thread_id)[-1].text
    assert warning == "⚠️ " + services.i18n.translator("de")._(
        "Case %(case)s is closed: /reopen it, then answer."
    ) % {"case": "#1"}
    assert "abgeschlossen" in warning


@pytest.mark.parametrize(
    ("forum", "bot_status", "message"),
    [
        (False, "administrator", "the group has no topics"),
        (True, "member", "must be an administrator allowed to manage topics"),
    ],
)
async def test_a_misconfigured_staff_group_is_reported_at_start_up(
    sandbox, settings, clock, staff, caplog, forum, bot_status, message
):
    import logging

    group = sandbox.add_group(
        title="Team",
        kind="supergroup",
        is_forum=forum,
        members={STAFF_A: "administrator"},
        bot_status=bot_status,
    )
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        async with running(make_application(replace(settings, staff_chat_id=group.id), clock)):
            pass
    assert any(
        message in r.getMessage() and str(group.id) in r.getMessage() for r in caplog.records
    )


async def test_a_correct_staff_group_gives_no_error(services, caplog):
    # The bot started in the fixture: its log lines are the setup phase's.
    startup = caplog.get_records("setup")
    assert any("placeholders" in r.getMessage() for r in startup)  # start-up logs are here
    assert not [r for r in startup if r.name == "bot.app" and r.levelname == "ERROR"]


async def test_start_up_does_not_warn_about_an_admin_who_never_wrote(
    sandbox, settings, clock, caplog
):
    """An admin who never opened a chat with the bot is normal (Telegram: "chat not found"):
    the menu waits for their /start, and start-up says so at INFO, not as a warning."""
    import logging

    application = make_application(settings, clock)
    with caplog.at_level(logging.INFO, logger="bot.transport.command_menu"):
        async with running(application):
            pass
    records = [r for r in caplog.records if r.name == "bot.transport.command_menu"]
    assert any("waits for their /start" in r.getMessage() for r in records)
    assert not [r for r in records if r.levelno >= logging.WARNING]


# ---- who may act as staff (issue 14: access ends at once, notes stay internal)


@pytest.mark.parametrize("how", ["leaves", "is removed", "is restricted out of the group"])
async def test_a_staff_member_who_leaves_the_group_loses_access_at_once(
    sandbox, services, group, chat_as, staff, how
):
    """Issue 14, finding 5: a cached membership let a leaver read full cases for 3 minutes."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال عن ديوني", "Debt")
    await case_topic(sandbox, services, 1)
    assert "chat_member" in sandbox.allowed_updates  # the bot asks Telegram for these
    boris = Chat(sandbox, staff[1])
    listing = await boris.send("/queue")
    assert "#1" in listing.text  # a member: the answer is now cached
    if how == "leaves":
        await sandbox.leave_group(staff[1], group)
    elif how == "is removed":
        await sandbox.remove_from_group(staff[0], group, staff[1])
    else:
        sandbox.set_member_status(group, staff[1], "restricted", by=staff[0], is_member=False)
    await sandbox.wait_for_idle()
    answer = await boris.send("/queue")  # the clock stands still: the cache alone would say yes
    # Anybody else: somebody who has not agreed to the privacy notice is asked to.
    assert "#1" not in answer.text
    assert services.i18n.translator("de")._("Do you agree?") in answer.text
    before = boris.seen()
    for data in ("q:read:1", "q:open:1", "case:take:1"):  # buttons he still has, or forged
        await sandbox.press_button(boris.user, listing, data, forge=True)
        await sandbox.wait_for_idle()
    assert all("سؤال" not in (m.text or "") for m in sandbox.messages_to(boris.id)[before:])
    assert await services.cases.repo.audit_trail(1) == []


async def test_an_anonymous_administrator_is_staff_and_audited_as_the_group(
    sandbox, services, group, chat_as, staff
):
    """Anonymous admins write as the group (GroupAnonymousBot, a bot user, is the sender)."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Family")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    in_topic = {"chat": group, "message_thread_id": case.thread_id, "anonymous": True}
    await sandbox.send_message(staff[0], "/take", **in_topic)
    await sandbox.send_message(staff[0], "Wir melden uns morgen.", **in_topic)
    reply = await sandbox.wait_for_message(amal.id, after=seen)
    assert reply.text == "Wir melden uns morgen."
    await sandbox.send_photo(staff[0], caption="/note Kopie liegt vor", **in_topic)
    await sandbox.wait_for_idle()
    trail = [(who, action) for who, action, _ in await services.cases.repo.audit_trail(1)]
    assert trail == [(group.id, "take"), (group.id, "reply"), (group.id, "note")]
    card = topic_messages(sandbox, group, case.thread_id)[0]
    assert "anonym" in card.text  # "Übernommen von: einer anonymen Administratorin …"
    with pytest.raises(ValueError, match="administrators"):  # members cannot write as the group
        await sandbox.send_message(staff[1], "x", **in_topic)


async def test_a_failed_membership_lookup_is_retried_and_never_treats_staff_as_a_resident(
    sandbox, services, group, chat_as, staff
):
    """A lookup that fails is asked again; one that keeps failing neither lets the message
    through as staff nor treats a social worker as a resident (no privacy notice, nothing
    stored): the update fails with StaffCheckUnavailable and is handled again shortly."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    sandbox.fail_next("getChatMember", status=502, description="Bad Gateway", times=2)
    await sandbox.send_message(
        staff[1], "Bitte bringen Sie den Brief mit.", chat=group, message_thread_id=case.thread_id
    )
    reply = await sandbox.wait_for_message(amal.id, after=seen)
    assert reply.text == "Bitte bringen Sie den Brief mit."  # the third try answered
    services.staff.forget(STAFF_B)
    sandbox.fail_next("getChatMember", status=502, description="Bad Gateway", times=3)
    boris = Chat(sandbox, staff[1])
    answer = await boris.send("/queue")
    de = services.i18n.translator("de")
    assert de._("Do you agree?") not in answer.text
    assert de._("I do not know this command. Please use the menu:") not in answer.text
    # The update failed with StaffCheckUnavailable and was handled again a second later, when
    # Telegram answered (bot/transport/update_processor.py): the queue, not an apology.
    assert "#1" in answer.text
    assert await services.residents.find(STAFF_B) is None  # not taken for a resident


@pytest.mark.parametrize(
    "form", ["photo caption", "document caption", "unmarked text", "after an invisible mark"]
)
async def test_a_note_never_reaches_the_resident_whatever_its_form(
    sandbox, services, group, chat_as, staff, form
):
    """Issue 14, finding 4: "/note …" as a caption went to the resident."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Family")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    note = "/note Frau A. hat Angst vor dem Ex-Mann"
    where = {"chat": group, "message_thread_id": case.thread_id}
    if form == "photo caption":
        await sandbox.send_photo(staff[0], caption=note, **where)
    elif form == "document caption":
        await sandbox.send_document(staff[0], caption=note, **where)
    elif form == "unmarked text":
        await sandbox.send_message(staff[0], note, mark_command=False, **where)
    else:
        await sandbox.send_message(staff[0], "\u200b" + note, **where)
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    messages = await services.cases.repo.messages(1)
    assert [m.direction for m in messages] == ["in", "note"]
    assert messages[1].text == "Frau A. hat Angst vor dem Ex-Mann"
    assert (messages[1].file_id is not None) == form.endswith("caption")
    # An unknown command is not passed on either, and staff are told so.
    await sandbox.send_photo(staff[0], caption="/notiz vergessen", **where)
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    assert "nothing was sent" in topic_messages(sandbox, group, case.thread_id)[-1].text or (
        "nicht" in topic_messages(sandbox, group, case.thread_id)[-1].text
    )


async def test_a_note_as_caption_in_a_private_reply_is_not_passed_on(
    sandbox, services, group, chat_as, staff
):
    """The "✍️ Reply" path from /queue: a captioned "/note" is refused, the reply stays armed."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Family")
    await case_topic(sandbox, services, 1)
    anna = Chat(sandbox, staff[0])
    view = await anna.send("/queue")
    opened = await anna.press_data(view, "q:open:1")
    await anna.press_data(opened, "q:reply:1")
    seen = amal.seen()
    await sandbox.send_photo(staff[0], caption="/note nur intern")
    await sandbox.send_message(staff[0], "/note auch intern", mark_command=False)
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    assert [m.direction for m in await services.cases.repo.messages(1)] == ["in"]
    await sandbox.send_message(staff[0], "Die Antwort für Amal")
    reply = await sandbox.wait_for_message(amal.id, after=seen)
    assert reply.text == "Die Antwort für Amal"
