"""Letters in the running bot, end to end against the sandbox: a resident sends a photo or PDF of
a letter into their case; staff see it, then its reading (sender, deadline, the text), the case
card and /queue follow the deadline, and the resident is answered in their language.

OCR is CPU-heavy: the normal run reads two small photos (the Mahnung, a blurred one); the other
tests send PDFs with a text layer, which the engine reads without OCR, and the photo album is
marked slow beside its PDF sibling.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from cryptography.fernet import Fernet
from PIL import Image, ImageFilter

from bot.app import SERVICES_KEY, running
from bot.core.clock import FrozenClock
from bot.core.crypto import OWN_PREFIX
from bot.letters.notices import resident_photo_hint
from bot.privacy.retention import Retention
from bot.sandbox import BotApiSandbox, SentMessage
from tests.conftest import ADMIN_ID, Chat, agree, eventually, make_application

from .corpus import case
from .render import Look, render

STAFF = 700_101
Rendered = Callable[[str], list[Path]]
# OCR on a machine shared with other test runs: give a reading time.
READ_TIMEOUT = 60.0


@pytest.fixture
def clock() -> FrozenClock:
    # Wednesday 9 December 2026, 10:00 in Erfurt: the Mahnung's deadline (11.12.) is two days off.
    return FrozenClock(datetime(2026, 12, 9, 9, 0, tzinfo=UTC))


@pytest.fixture
def group(sandbox: BotApiSandbox):
    sandbox.add_user(first_name="Anna", language_code="de", user_id=STAFF)
    return sandbox.add_group(
        title="Th.INKA Team", kind="supergroup", is_forum=True, members={STAFF: "administrator"}
    )


@pytest.fixture
def staff_settings(settings, group):
    return replace(settings, staff_chat_id=group.id)


@pytest.fixture
async def services(staff_settings, clock):
    async with running(make_application(staff_settings, clock)) as application:
        # The tests run the deadline pass (remind_due) themselves, when they choose: a job
        # firing in the middle of a slow run would post a reminder nobody expects there.
        for job in application.job_queue.get_jobs_by_name("deadlines"):
            job.enabled = False
        yield application.bot_data[SERVICES_KEY]


def text_pdf(key: str, directory: Path) -> bytes:
    """The corpus letter as a PDF with a text layer: read without OCR."""
    letter = case(key).letter
    return render(replace(letter, look=Look(form="text-pdf")), directory)[0].read_bytes()


def pdf_pages(data: bytes) -> list[bytes]:
    """Each page of a PDF as a PDF of its own (a scanner app that saves one file per page)."""
    source = pdfium.PdfDocument(data)
    pages = []
    for index in range(len(source)):
        single = pdfium.PdfDocument.new()
        single.import_pages(source, [index])
        buffer = io.BytesIO()
        single.save(buffer)
        pages.append(buffer.getvalue())
    return pages


async def open_request(services, chat: Chat, topic: str = "Debt") -> SentMessage:
    """A resident agrees, asks a question on `topic` in Rieth; returns the "please write" step."""
    t = services.i18n.translator(chat.user.language_code)
    menu = await agree(chat, await chat.send("/start"))
    topics = await chat.press(menu, t._("✍️ Ask a question"))
    districts = await chat.press(topics, next(b for b in topics.button_texts if t._(topic) in b))
    return await chat.press(districts, "📍 Rieth")


async def reading_for(sandbox: BotApiSandbox, chat: Chat, after: int) -> SentMessage:
    """The resident's message about their letter (after the request's confirmation)."""
    return await sandbox.wait_for_message(
        chat.id,
        after=after,
        timeout=READ_TIMEOUT,
        predicate=lambda m: (m.text or "").startswith(("📄", "📷")),
    )


async def topic_of(services, sandbox: BotApiSandbox, group, case_id: int) -> list[SentMessage]:
    """The messages in the case's topic, once its reading is done."""

    async def read():
        letters = await services.db.fetchall(
            "SELECT status FROM letters WHERE case_id = ?", (case_id,)
        )
        return letters and all(row[0] != "pending" for row in letters)

    await eventually(read, within=READ_TIMEOUT)
    await sandbox.wait_for_idle(timeout=READ_TIMEOUT)
    thread = (await services.cases.get(case_id)).thread_id
    return [m for m in sandbox.messages_to(group.id) if m.message_thread_id == thread]


def quoted(message: SentMessage) -> str:
    """The text under the message's collapsed quote."""
    text = message.text or ""
    (entity,) = [e for e in message.entities if e["type"] == "expandable_blockquote"]
    return text.encode("utf-16-le")[
        2 * entity["offset"] : 2 * (entity["offset"] + entity["length"])
    ].decode("utf-16-le")


async def test_a_russian_residents_photo_of_a_mahnung_is_read_for_staff_queue_and_resident(
    sandbox, services, group, chat_as, rendered: Rendered
):
    # Two older requests: one plain, one urgent.
    older = chat_as("ar", "Amal")
    await open_request(services, older, "Housing search")
    await older.ask("سؤال عن السكن")
    urgent = chat_as("de", "Uwe")
    await open_request(services, urgent, "Family")
    await urgent.ask("Ich brauche dringend Hilfe")
    await services.cases.mark_urgent(2)
    # Dmitri sends the photo of his Mahnung as his request.
    dmitri = chat_as("ru", "Dmitri")
    t = services.i18n.translator("ru")
    await open_request(services, dmitri)
    before = dmitri.seen()
    photo = rendered("ink_letzte_mahnung")[0].read_bytes()
    await sandbox.send_photo(dmitri.user, content=photo)
    answer = await reading_for(sandbox, dmitri, before)

    # The resident, in Russian, at once: sender (German name kept), deadline, the fitting answer.
    sender = t._("debt collector (Inkasso) or a creditor")
    assert sender == "коллекторское агентство (Inkasso) или кредитор"
    assert (
        t._("We could read your letter (sender: %(sender)s).") % {"sender": sender} in answer.text
    )
    assert "11.12.2026" in answer.text and "Срок (Frist)" in answer.text
    mahnung = services.content.current.answer("debt-mahnung")
    assert answer.button_texts == ["💡 " + mahnung.title_in("ru")]

    # Staff: the photo first, then its reading, machine-read, with the text collapsed.
    card, copy, reading = await topic_of(services, sandbox, group, 3)
    assert copy.kind == "photo" and copy.message_id < reading.message_id
    assert reading.text.startswith(
        "📄 Inkasso oder Gläubiger · Frist 11.12.2026 (in 2 Tagen) · Az. FMO-88123"
    )
    assert "Maschinell gelesen (1 Seite)" in reading.text
    assert "Betrag 143,70 €" in reading.text and "„spätestens am 11.12.2026“" in reading.text
    assert "Forderungsmanagement Ost" in quoted(reading)
    assert reading.button_texts == ["🗑 Frist falsch: entfernen"]

    async def card_shows_deadline():
        current = next(m for m in sandbox.messages_to(group.id) if m.message_id == card.message_id)
        return (
            "📄 Inkasso oder Gläubiger · Frist 11.12.2026 (in 2 Tagen)" in current.text and current
        )

    current = await eventually(card_shows_deadline)
    assert "· Az. FMO-88123 (maschinell gelesen)" in current.text

    # /queue: the urgent case first, then the Mahnung (flagged: due in two days), then the rest.
    staff = chat_as("de", "Anna", user_id=STAFF)
    queue = await staff.send("/queue")
    lines = queue.text.splitlines()[1:]
    assert [line.split("#")[1].split(" ")[0] for line in lines] == ["2", "3", "1"]
    assert lines[1].startswith("⏰ ") and "📄 Frist 11.12.2026 (in 2 Tagen)" in lines[1]
    assert not lines[0].startswith("⏰") and not lines[2].startswith("⏰")


async def test_an_unreadable_photo_gets_the_hint_how_to_take_a_better_one(
    sandbox, services, group, chat_as, rendered: Rendered
):
    olena = chat_as("uk", "Olena")
    t = services.i18n.translator("uk")
    await open_request(services, olena, "Official letter")
    before = olena.seen()
    # The Mahnung again, photographed far out of focus.
    blurred = Image.open(rendered("ink_letzte_mahnung")[0]).filter(ImageFilter.GaussianBlur(8))
    buffer = io.BytesIO()
    blurred.save(buffer, "JPEG", quality=70)
    await sandbox.send_photo(olena.user, content=buffer.getvalue())
    hint = await reading_for(sandbox, olena, before)
    assert hint.text == resident_photo_hint(t)
    assert "сфотографуйте всю сторінку" in hint.text
    messages = await topic_of(services, sandbox, group, 1)
    assert messages[-1].text.startswith("📄 Foto nicht lesbar")
    assert (await services.cases.get(1)).deadline is None
    row = await services.db.fetchone("SELECT status, failure, reading FROM letters")
    assert tuple(row) == ("unreadable", "no_text", None)


async def test_an_album_of_two_pdf_pages_is_one_letter(sandbox, services, group, chat_as, tmp_path):
    amal = chat_as("ar", "Amal")
    t = services.i18n.translator("ar")
    await open_request(services, amal, "Job application")
    before = amal.seen()
    first, second = pdf_pages(text_pdf("jc_nachweise", tmp_path))
    for number, page in enumerate((first, second), start=1):
        await sandbox.send_document(
            amal.user, file_name=f"seite{number}.pdf", content=page, media_group_id="scan-1"
        )
    answer = await reading_for(sandbox, amal, before)
    # Arabic: the date is isolated left-to-right inside the right-to-left text.
    assert "\u206818.12.2026\u2069" in answer.text
    assert t._("job centre (Jobcenter)") in answer.text
    messages = await topic_of(services, sandbox, group, 1)
    readings = [m for m in messages if (m.text or "").startswith("📄")]
    assert len(readings) == 1 and "(2 Seiten)" in readings[0].text
    assert "Frist 18.12.2026 (in 9 Tagen) · BG-Nummer 07301BG0012345" in readings[0].text
    letters = await services.db.fetchall("SELECT id, status FROM letters")
    pages = await services.db.fetchall("SELECT letter_id FROM letter_pages")
    assert [tuple(r) for r in letters] == [(1, "read")] and [r[0] for r in pages] == [1, 1]


@pytest.mark.slow  # two photos through OCR; the PDF album above is the quick sibling
async def test_an_album_of_two_photos_is_one_letter(
    sandbox, services, group, chat_as, rendered: Rendered
):
    amal = chat_as("de", "Amal")
    await open_request(services, amal, "Job application")
    before = amal.seen()
    for path in rendered("jc_nachweise"):
        await sandbox.send_photo(amal.user, content=path.read_bytes(), media_group_id="a1")
    answer = await reading_for(sandbox, amal, before)
    assert "Frist: 18.12.2026" in answer.text
    messages = await topic_of(services, sandbox, group, 1)
    assert [m.kind for m in messages[1:3]] == ["photo", "photo"]
    (reading,) = [m for m in messages if (m.text or "").startswith("📄")]
    assert "Jobcenter · Frist 18.12.2026" in reading.text and "(2 Seiten)" in reading.text
    assert len(await services.db.fetchall("SELECT id FROM letters")) == 1


async def mahnung_as_pdf(services, sandbox, chat: Chat, tmp_path) -> SentMessage:
    """A resident opens a request and sends the Mahnung as a PDF; returns their answer."""
    await open_request(services, chat)
    before = chat.seen()
    await sandbox.send_document(
        chat.user, file_name="Mahnung.pdf", content=text_pdf("ink_letzte_mahnung", tmp_path)
    )
    return await reading_for(sandbox, chat, before)


async def test_staff_correct_and_clear_a_deadline_with_frist_or_the_button(
    sandbox, services, group, chat_as, tmp_path
):
    dmitri = chat_as("ru", "Dmitri")
    await mahnung_as_pdf(services, sandbox, dmitri, tmp_path)
    card, _document, reading = await topic_of(services, sandbox, group, 1)
    thread = card.message_thread_id

    async def say(text: str) -> SentMessage:
        before = len(sandbox.messages_to(group.id))
        await sandbox.send_message(STAFF, text, chat=group, message_thread_id=thread)
        return await sandbox.wait_for_message(group.id, after=before)

    def card_text() -> str:
        return next(
            m for m in sandbox.messages_to(group.id) if m.message_id == card.message_id
        ).text

    assert (await say("/frist 20.12.2026")).text == "📅 Fall #1: Frist 20.12.2026 (in 11 Tagen)"
    await sandbox.wait_for_idle()
    assert "Frist 20.12.2026 (in 11 Tagen) · Az. FMO-88123 (von Mitarbeitenden korrigiert)" in (
        card_text()
    )
    assert (await say("/frist -")).text == "🗑 Fall #1 hat jetzt keine Frist."
    await sandbox.wait_for_idle()
    assert "📄 Inkasso oder Gläubiger · Frist entfernt · Az. FMO-88123" in card_text()
    queue = await chat_as("de", "Anna", user_id=STAFF).send("/queue")
    (line,) = queue.text.splitlines()[1:]
    assert "Frist" not in line and "⏰" not in line
    assert "konnte ich nicht lesen" in (await say("/frist 31.02.2027")).text
    assert "Vergangenheit" in (await say("/frist 01.12.2026")).text
    assert "/frist TT.MM.JJJJ" in (await say("/frist")).text
    # German dates as staff type them: "Freitag" is Friday 11 December.
    assert (await say("/frist Freitag")).text == "📅 Fall #1: Frist 11.12.2026 (in 2 Tagen)"
    # The button under the reading clears it too.
    cleared = await chat_as("de", "Anna", user_id=STAFF).press_data(reading, "lt:clear:1")
    assert cleared.buttons == []
    assert (await services.cases.get(1)).deadline.due is None
    actions = [action for _, action, _ in await services.cases.repo.audit_trail(1)]
    assert actions.count("deadline") == 2 and actions.count("deadline_cleared") == 2
    # A resident can neither use the command nor the button.
    answer = await dmitri.send("/frist 1 20.12.2026")
    assert services.i18n.translator("ru")._("I do not know this command. Please use the menu:") in (
        answer.text
    )
    await sandbox.press_button(dmitri.user, answer, "lt:clear:1", forge=True)
    await sandbox.wait_for_idle()
    assert actions == [a for _, a, _ in await services.cases.repo.audit_trail(1)]


async def test_frist_in_a_private_chat_names_the_case(sandbox, services, group, chat_as, tmp_path):
    await mahnung_as_pdf(services, sandbox, chat_as("ru", "Dmitri"), tmp_path)
    await topic_of(services, sandbox, group, 1)
    anna = chat_as("de", "Anna", user_id=STAFF)
    assert (
        await anna.send("/frist 1 18.12.2026")
    ).text == "📅 Fall #1: Frist 18.12.2026 (in 9 Tagen)"
    assert "/frist 12 TT.MM.JJJJ" in (await anna.send("/frist 18.12.2026")).text
    assert "Fall #99 gibt es nicht" in (await anna.send("/frist 99 18.12.2026")).text


async def test_the_staff_reminder_comes_once_when_a_deadline_is_near_and_nobody_answered(
    sandbox, services, staff_settings, clock, group, chat_as, tmp_path
):
    await mahnung_as_pdf(services, sandbox, chat_as("ru", "Dmitri"), tmp_path)
    card, *_ = await topic_of(services, sandbox, group, 1)
    # A second case whose resident was answered after the letter came: no reminder.
    olga = chat_as("ru", "Olga")
    await mahnung_as_pdf(services, sandbox, olga, tmp_path)
    second, *_ = await topic_of(services, sandbox, group, 2)
    await sandbox.send_message(
        STAFF, "Wir kümmern uns darum.", chat=group, message_thread_id=second.message_thread_id
    )
    await sandbox.wait_for_message(olga.id, predicate=lambda m: m.text == "Wir kümmern uns darum.")

    def reminders() -> list[SentMessage]:
        return [m for m in sandbox.messages_to(group.id) if (m.text or "").startswith("⏰")]

    # Telegram fails the first try: the reminder is not lost, the courier sends it again.
    sandbox.fail_next("sendMessage", status=500)
    assert await services.letters.remind_due() == 1
    assert await services.letters.remind_due() == 0
    await sandbox.wait_for_idle()
    assert reminders() == []
    clock.advance(timedelta(minutes=10))  # past the back-off
    services.courier.kick()

    async def sent():
        return reminders()

    await eventually(sent)
    (reminder,) = reminders()
    assert reminder.message_thread_id == card.message_thread_id
    assert reminder.text.startswith(
        "⏰ Fall #1: Frist in 2 Tagen, und noch hat niemand geantwortet."
    )
    # The job is scheduled, and a restart does not send it again: it is derived from the database.
    application = make_application(staff_settings, clock)
    async with running(application):
        again = application.bot_data[SERVICES_KEY]
        assert application.job_queue.get_jobs_by_name("deadlines")
        assert await again.letters.remind_due() == 0
    assert len(reminders()) == 1


async def test_a_letter_stored_but_not_read_is_read_after_a_restart(
    sandbox, staff_settings, clock, group, chat_as, tmp_path
):
    dmitri = chat_as("ru", "Dmitri")
    # Telegram's file server is down: getFile fails, the letter waits in the database.
    sandbox.fail_next("getFile", status=502)
    async with running(make_application(staff_settings, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        await open_request(services, dmitri)
        await sandbox.send_document(
            dmitri.user, file_name="Mahnung.pdf", content=text_pdf("ink_letzte_mahnung", tmp_path)
        )

        async def tried():
            row = await services.db.fetchone("SELECT status, attempts FROM letters")
            return row is not None and row["attempts"] >= 1 and tuple(row)

        assert await eventually(tried) == ("pending", 1)
    before = dmitri.seen()
    clock.advance(timedelta(minutes=1))  # past the retry pause
    async with running(make_application(staff_settings, clock)) as application:
        answer = await reading_for(sandbox, dmitri, before)
        assert "11.12.2026" in answer.text
        services = application.bot_data[SERVICES_KEY]
        assert (await services.cases.get(1)).deadline.due.isoformat() == "2026-12-11"


async def test_thinka_ocr_off_reads_nothing(
    sandbox, staff_settings, clock, group, chat_as, tmp_path
):
    dmitri = chat_as("ru", "Dmitri")
    async with running(make_application(replace(staff_settings, ocr=False), clock)) as app:
        services = app.bot_data[SERVICES_KEY]
        await open_request(services, dmitri)
        before = dmitri.seen()
        await sandbox.send_document(
            dmitri.user, file_name="Mahnung.pdf", content=text_pdf("ink_letzte_mahnung", tmp_path)
        )
        await sandbox.wait_for_idle()
        case = await services.cases.get(1)
        assert case.thread_id is not None
        kinds = [
            m.kind for m in sandbox.messages_to(group.id) if m.message_thread_id == case.thread_id
        ]
        assert kinds == ["text", "document"]  # the card and the copy, nothing read
        (confirmation,) = sandbox.messages_to(dmitri.id)[before:]
        t = services.i18n.translator("ru")
        assert (
            t._("Thank you! Your request %(number)s has been received.") % {"number": "#1"}
            in confirmation.text
        )
        assert not await services.db.fetchall("SELECT id FROM letters")
        assert "getFile" not in [name for name, _ in sandbox.calls]


async def test_the_reading_is_in_mydata_and_erased_with_the_resident_and_never_logged(
    sandbox, services, group, chat_as, settings, tmp_path, caplog
):
    dmitri = chat_as("ru", "Dmitri")
    with caplog.at_level(logging.DEBUG):
        await mahnung_as_pdf(services, sandbox, dmitri, tmp_path)
        await topic_of(services, sandbox, group, 1)
    # The bot's own logs at every level (what libraries log at DEBUG: test_cli.py).
    logged = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("bot", "handlers"))
    )
    assert "FMO-88123" not in logged and "Sokolow" not in logged and "143,70" not in logged
    before = dmitri.seen()
    await sandbox.send_message(dmitri.user, "/mydata")
    await sandbox.wait_for_idle()
    summary, document = sandbox.messages_to(dmitri.id)[before : before + 2]
    assert "1 письмо, прочитанное ботом" in summary.text
    data = json.loads(sandbox.file_content(document.raw["document"]["file_id"]))
    (letter,) = data["letters_read"]
    assert letter["reading"]["reference"]["value"] == "FMO-88123"
    assert "Forderungsmanagement Ost" in letter["reading"]["text"]
    assert data["deadlines"] == [
        {"case_id": 1, "due_on": "2026-12-11", "estimated": 0, "set_by_staff": 0}
    ]
    files = [settings.db_path, settings.db_path.with_name(settings.db_path.name + "-wal")]

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in files if p.exists())

    assert b"FMO-88123" in on_disk()
    question = await dmitri.send("/delete")
    await dmitri.press_data(question, "privacy:delete:yes")
    assert not await services.db.fetchall("SELECT id FROM letters")
    assert not await services.db.fetchall("SELECT case_id FROM case_deadlines")
    assert b"FMO-88123" not in on_disk()


async def test_retention_erases_the_reading_of_an_old_closed_case(
    sandbox, services, group, chat_as, clock, tmp_path
):
    await mahnung_as_pdf(services, sandbox, chat_as("ru", "Dmitri"), tmp_path)
    await topic_of(services, sandbox, group, 1)
    await services.cases.close(1, STAFF)
    await services.db.execute(
        "UPDATE cases SET closed_at = ?", ((clock.now() - timedelta(days=181)).isoformat(),)
    )
    retention = Retention(services.personal_data, services.erasure, services.relay, clock, 180)
    assert await retention.run() == (1, 0)
    assert not await services.db.fetchall("SELECT id FROM letters")
    assert (await services.cases.get(1)).deadline is None


async def test_with_a_key_the_reading_is_stored_encrypted(
    sandbox, staff_settings, clock, group, chat_as, tmp_path
):
    locked = replace(staff_settings, encryption_keys=(Fernet.generate_key().decode(),))
    async with running(make_application(locked, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        await mahnung_as_pdf(services, sandbox, chat_as("ru", "Dmitri"), tmp_path)
        await topic_of(services, sandbox, group, 1)
        # Staff still see what was read: opened with the key.
        assert (await services.cases.get(1)).deadline.reference == "Az. FMO-88123"
    with sqlite3.connect(staff_settings.db_path) as raw:
        reading = raw.execute("SELECT reading FROM letters").fetchone()[0]
        summary = raw.execute("SELECT summary FROM case_deadlines").fetchone()[0]
    # Sealed with the resident's own key (crypto-shredding: bot/core/crypto.py).
    assert reading.startswith(OWN_PREFIX) and summary.startswith(OWN_PREFIX)
    files = [staff_settings.db_path, Path(f"{staff_settings.db_path}-wal")]
    stored = b"".join(p.read_bytes() for p in files if p.exists())
    assert b"FMO-88123" not in stored and b"Inkasso" not in stored


async def test_without_a_staff_group_the_admins_get_the_reading(bot, sandbox, chat_as, tmp_path):
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await admin.send("/queue")  # the admin's private chat with the bot exists
    before = admin.seen()
    await mahnung_as_pdf(bot, sandbox, chat_as("ru", "Dmitri"), tmp_path)
    reading = await sandbox.wait_for_message(
        admin.id, after=before, timeout=READ_TIMEOUT, predicate=lambda m: "📄" in (m.text or "")
    )
    assert reading.text.startswith("#1 · 📄 Inkasso oder Gläubiger · Frist 11.12.2026 (in 2 Tagen)")
    seen = admin.seen()
    assert await bot.letters.remind_due() == 1
    reminder = await sandbox.wait_for_message(admin.id, after=seen)
    assert reminder.text.startswith("#1 · ⏰ Fall #1: Frist in 2 Tagen")


async def test_the_letter_notices_wait_out_a_telegram_outage_and_come_once(
    sandbox, services, group, chat_as, tmp_path
):
    """The reading for staff, the answer to the resident and the deadline reminder went straight
    to the Bot API: a 502 lost them for good (the reminder waited for the next minute's pass).
    Now they are queued with the reading (or the reminder's claim) and the courier sends them
    once Telegram is back, each once."""
    dmitri = chat_as("ru", "Dmitri")
    await open_request(services, dmitri)
    await dmitri.ask("Ich habe einen Brief bekommen.")  # the case and its topic exist
    await sandbox.wait_for_idle()
    thread = (await services.cases.get(1)).thread_id
    before = dmitri.seen()
    # Telegram answers 502 to sendMessage; the copy of the letter (copyMessage) goes through.
    sandbox.start_outage(methods=frozenset({"sendMessage"}))
    await sandbox.send_document(
        dmitri.user, file_name="Mahnung.pdf", content=text_pdf("ink_letzte_mahnung", tmp_path)
    )

    async def read():
        return await services.db.fetchall("SELECT 1 FROM letters WHERE status = 'read'")

    await eventually(read, within=READ_TIMEOUT)
    assert await services.letters.remind_due() == 1
    await sandbox.wait_for_idle()
    assert sandbox.send_fault_counts["outage"] >= 3  # all three were tried in the outage
    sandbox.end_outage()
    services.clock.advance(timedelta(minutes=10))  # past the back-off
    services.courier.kick()
    await reading_for(sandbox, dmitri, before)

    def staff(prefix: str) -> list[SentMessage]:
        return [
            m
            for m in sandbox.messages_to(group.id)
            if m.message_thread_id == thread and (m.text or "").startswith(prefix)
        ]

    async def both():
        return staff("📄 Inkasso") and staff("⏰")

    await eventually(both)
    await sandbox.wait_for_idle()
    services.courier.kick()  # nothing is left to send a second time
    await sandbox.wait_for_idle()
    answers = [m for m in sandbox.messages_to(dmitri.id)[before:] if "📄" in (m.text or "")]
    assert (len(answers), len(staff("📄 Inkasso")), len(staff("⏰"))) == (1, 1, 1)


async def test_a_reading_and_the_deadline_it_gives_its_case_are_one_commit(
    sandbox, services, group, chat_as, tmp_path
):
    """The letter was marked read in one commit and its deadline stored in the next: a kill
    between them lost the deadline for good (a read letter is never read again), and the
    deadline pass could find the letter read and no deadline (it failed a CI run so)."""
    from tests.test_cases_e2e import _write_units

    statements: list[str] = []
    services.db._conn.set_trace_callback(statements.append)
    try:
        await mahnung_as_pdf(services, sandbox, chat_as("ru", "Dmitri"), tmp_path)
    finally:
        services.db._conn.set_trace_callback(None)
    [unit] = [
        unit
        for unit in _write_units(statements, ("letters", "case_deadlines"))
        if any("SET status" in sql and "reading" in sql for sql in unit)
    ]
    assert any(sql.startswith("INSERT INTO case_deadlines") for sql in unit)
    assert await services.letters.remind_due() == 1
