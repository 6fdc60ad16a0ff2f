"""The rules of letters and deadlines, straight on LetterService and its repository: which
messages are pages of which letter, when a letter is read, which deadline a case keeps, who is
reminded. No Telegram: pages come from a dict, notices are read from the outgoing table they are
queued in (the courier's path to Telegram is tested in tests/letters/test_bot_e2e.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cases.service import Incoming
from bot.core.outgoing import Outgoing
from bot.core.paths import CONTENT_DIR
from bot.letters.envelopes import LetterEnvelopes
from bot.letters.extract import SenderKind
from bot.letters.reader import LetterReader
from bot.letters.reading import Failure
from bot.letters.repository import LetterRepository
from bot.letters.service import LetterService, PageRefused, PageUnavailable, is_page
from bot.selfhelp.repository import ContentStore
from tests.letters.corpus import case
from tests.letters.render import Look, plain_text, render
from tests.services.conftest import STAFF_ID, text

TZ = ZoneInfo("Europe/Berlin")


class Pages(dict):
    """file_id -> bytes, or an exception to raise."""

    async def fetch(self, file_id: str) -> bytes:
        found = self[file_id]
        if isinstance(found, Exception):
            raise found
        return found


class Notices:
    """What the service queued for the courier, and how often it woke it."""

    def __init__(self, db) -> None:
        self._outgoing = Outgoing(db)
        self.kicks = 0

    def kick(self) -> None:
        self.kicks += 1

    async def _queued(self, target: str):
        return [
            row
            for row in await self._outgoing.rows()
            if row.target == target and (row.key or "").startswith(("letter:", "deadline:"))
        ]

    async def staff(self) -> list[tuple[int, str]]:
        return [(row.case_id, row.content.text) for row in await self._queued("staff")]

    async def resident(self) -> list[tuple[int, str, object]]:
        return [
            (row.case_id, row.content.text, row.content.buttons)
            for row in await self._queued("chat")
        ]


@pytest.fixture
def pages() -> Pages:
    return Pages()


@pytest.fixture
def notices(db) -> Notices:
    return Notices(db)


@pytest.fixture
async def letters(db, cases, clock, i18n, pages, notices, changes):
    service = LetterService(
        LetterRepository(db),
        cases,
        LetterReader(),
        pages,
        LetterEnvelopes(staff_group=True),
        ContentStore(CONTENT_DIR),
        i18n,
        clock,
        TZ,
        on_change=changes,
        on_queue=notices.kick,
        album_settle_s=0,
    )
    yield service
    await service.stop()


@pytest.fixture(autouse=True)
def dated_cases(cases, clock):
    # The case cards count days from the local day, as the bot's repository does.
    cases.repo._today = lambda: clock.now().astimezone(TZ).date()


def photo(message_id: int, chat_id: int = 1, group: str | None = None) -> Incoming:
    return Incoming("photo", None, f"file-{message_id}", group, chat_id, message_id)


async def relayed(cases, message_id: int) -> None:
    """What the courier records once Telegram has the copy (bot/transport/relay.py)."""
    async with cases.repo._db.transaction() as tx:
        await cases.repo.mark_relayed(tx, message_id, -100, message_id)


async def submitted_with(cases, resident, *messages: Incoming):
    for message in messages:
        await cases.receive(resident, message, "Dmitri")
    await cases.choose_topic(resident, "debt", "Dmitri")
    result = await cases.choose_district(resident, "Rieth", "Dmitri")
    for stored in await cases.repo.messages(result.case.id):
        await relayed(cases, stored.id)  # staff have the photos
    return result.case


def pdf(key: str, tmp_path) -> bytes:
    return render(replace(case(key).letter, look=Look(form="text-pdf")), tmp_path)[0].read_bytes()


async def test_pages_make_letters_once_and_albums_are_one_letter(
    letters, cases, resident_factory, clock
):
    dmitri = await resident_factory(language="ru")
    for message in (photo(1), photo(2, group="g"), photo(3, group="g"), text("Frage", 4)):
        await cases.receive(dmitri, message, "Dmitri")
    repo = letters.repo
    single = await repo.add_page(1, 1, clock.now())
    first = await repo.add_page(1, 2, clock.now())
    second = await repo.add_page(1, 3, clock.now())
    assert single.letter_id != first.letter_id == second.letter_id
    assert (single.album, first.album) == (False, True)
    assert await repo.add_page(1, 3, clock.now()) == second  # handled again after a restart
    assert await repo.add_page(1, 4, clock.now()) is None  # a text is no page
    assert await repo.add_page(1, 99, clock.now()) is None  # never stored
    assert [p.message_id for p in await repo.pages(first.letter_id)] == [2, 3]


async def test_a_letter_is_read_when_its_case_is_submitted_and_staff_have_its_pages(
    letters, cases, resident_factory, clock
):
    dmitri = await resident_factory(language="ru")
    result = await cases.receive(dmitri, photo(1), "Dmitri")
    await letters.enqueue(1, 1)
    assert await letters.repo.waiting() == []  # a draft: staff have not seen it
    await cases.choose_topic(dmitri, "debt", "Dmitri")
    await cases.choose_district(dmitri, "Rieth", "Dmitri")
    (waiting,) = await letters.repo.waiting()
    assert waiting.case_id == result.case.id and not waiting.relayed  # the photo first
    (message,) = await cases.repo.messages(result.case.id)
    await relayed(cases, message.id)
    (waiting,) = await letters.repo.waiting()
    assert waiting.relayed


async def test_a_read_letter_gives_the_case_its_deadline_and_tells_both_sides(
    letters, cases, resident_factory, pages, notices, changes, tmp_path
):
    dmitri = await resident_factory(language="ru")
    case_ = await submitted_with(cases, dmitri, photo(1))
    pages["file-1"] = pdf("ink_letzte_mahnung", tmp_path)
    await letters.enqueue(1, 1)
    assert await letters.run_once() == 1
    deadline = (await cases.get(case_.id)).deadline
    assert (deadline.due, deadline.estimated, deadline.by_staff) == (
        date(2026, 12, 11),
        False,
        False,
    )
    assert (deadline.sender, deadline.reference, deadline.days_left) == (
        "Inkasso oder Gläubiger",
        "Az. FMO-88123",
        10,
    )
    (staff,) = await notices.staff()
    assert "Frist 11.12.2026 (in 10 Tagen)" in staff[1] and "<blockquote expandable>" in staff[1]
    (resident,) = await notices.resident()
    assert "11.12.2026" in resident[1] and "Срок (Frist)" in resident[1]
    assert resident[2][0][0][1] == "sh:o:debt-mahnung"
    assert case_.id in changes and notices.kicks == 1
    # Keyed once per letter, and erased with the resident (bot/privacy/repository.py).
    queued = await Outgoing(letters.repo._db).rows(case_id=case_.id)
    mine = [row for row in queued if (row.key or "").startswith("letter:")]
    assert sorted(row.key for row in mine) == ["letter:1:resident", "letter:1:staff"]
    assert {row.resident_id for row in mine} == {dmitri.user_id}
    assert await letters.run_once() == 0  # read once


async def test_downloads_are_retried_and_refused_files_are_not_read(
    letters, cases, resident_factory, pages, notices, clock
):
    dmitri = await resident_factory(language="de")
    await submitted_with(cases, dmitri, photo(1), photo(2))
    pages["file-1"] = PageUnavailable("NetworkError")
    pages["file-2"] = PageRefused(Failure.TOO_LARGE)
    await letters.enqueue(1, 1)
    await letters.enqueue(1, 2)
    assert await letters.run_once() == 1  # the refused one: not read
    (waiting,) = await letters.repo.waiting()
    assert waiting.attempts == 1 and waiting.read_after == clock.now() + timedelta(seconds=5)
    assert await letters.run_once() == 0  # the pause runs
    clock.advance(timedelta(seconds=6))
    pages["file-1"] = b"not an image"
    assert await letters.run_once() == 1
    rows = await letters.repo._db.fetchall("SELECT status, failure FROM letters ORDER BY id")
    assert [tuple(r) for r in rows] == [("not_read", "not_a_document"), ("not_read", "too_large")]
    assert await notices.staff() == await notices.resident() == []  # "not read" bothers nobody


async def test_the_nearest_deadline_counts_and_staff_have_the_last_word_until_a_new_letter(
    letters, cases, resident_factory, clock
):
    dmitri = await resident_factory()
    case_ = await submitted_with(cases, dmitri, text("Frage"))
    repo = letters.repo
    now = clock.now()
    assert await repo.offer_deadline(case_.id, None, date(2026, 12, 20), True, "{}", now)
    assert await repo.offer_deadline(case_.id, None, date(2026, 12, 11), False, "{}", now)
    assert not await repo.offer_deadline(case_.id, None, date(2026, 12, 15), False, "{}", now)
    assert not await repo.offer_deadline(case_.id, None, None, False, "{}", now)
    assert (await cases.get(case_.id)).deadline.due == date(2026, 12, 11)
    changed = await letters.set_deadline(case_.id, STAFF_ID, None)
    assert changed.deadline.due is None and changed.deadline.by_staff
    assert await repo.offer_deadline(case_.id, None, date(2027, 1, 4), True, "{}", now)
    assert not (await cases.get(case_.id)).deadline.by_staff
    actions = [a for _, a, _ in await cases.repo.audit_trail(case_.id)]
    assert actions == ["deadline_cleared"]


async def test_the_queue_puts_nearest_deadlines_after_urgent_cases(
    letters, cases, resident_factory, clock
):
    ids = []
    for user in (1, 2, 3, 4):
        resident = await resident_factory(user_id=user)
        ids.append((await submitted_with(cases, resident, text("Frage", 1, user))).id)
    await letters.set_deadline(ids[2], STAFF_ID, date(2026, 12, 20))
    await letters.set_deadline(ids[3], STAFF_ID, date(2026, 12, 3))
    await cases.mark_urgent(ids[1])
    order = [entry.case.id for entry in await cases.queue()]
    assert order == [ids[1], ids[3], ids[2], ids[0]]
    flags = {
        entry.case.id: entry.case.deadline.due_soon
        for entry in await cases.queue()
        if entry.case.deadline
    }
    assert flags == {ids[3]: True, ids[2]: False}


async def test_reminders_only_when_near_unanswered_and_once(
    letters, cases, resident_factory, notices, clock
):
    near, far, answered = [
        await submitted_with(cases, await resident_factory(user_id=u), text("Frage", 1, u))
        for u in (1, 2, 3)
    ]
    for case_, day in ((near, 4), (far, 5), (answered, 2)):
        await letters.set_deadline(case_.id, STAFF_ID, date(2026, 12, day))
    await cases.reply(answered.id, STAFF_ID, Incoming("text", "Antwort", None, None, -100, 9))
    assert await letters.remind_due() == 1
    staff = await notices.staff()
    assert [case_id for case_id, _ in staff] == [near.id]
    assert "Frist in 3 Tagen" in staff[0][1]
    assert await letters.remind_due() == 0
    clock.advance(timedelta(days=1))  # now the far one is three days off
    assert await letters.remind_due() == 1
    # A corrected deadline may be reminded again.
    await letters.set_deadline(near.id, STAFF_ID, date(2026, 12, 3))
    assert await letters.remind_due() == 1
    assert "Frist morgen" in (await notices.staff())[-1][1]


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("ink_letzte_mahnung", "debt-mahnung"),
        ("ink_forderung", "debt-inkasso"),
        ("ag_mahnbescheid", "debt-mahnbescheid"),
        ("ab_unterlagen", "letter-auslaenderbehoerde"),
        ("jc_einladung", "job-einladung"),
        ("jc_mitwirkung", "job-unterlagen"),
        ("so_verein", "letter-verstehen"),
    ],
)
def test_the_quick_answer_fits_the_sender_and_the_letter(letters, key, answer):
    from bot.letters import extract
    from bot.letters.reading import LetterReading

    words = extract.clean(plain_text(case(key).letter))
    reading = LetterReading(1, (), extract.sender_kind(words), None, None, None, (), words)
    assert reading.sender is not SenderKind.SONSTIGE or answer == "letter-verstehen"
    assert letters.quick_answer(reading).id == answer


@pytest.mark.parametrize(
    ("mime", "name", "page"),
    [
        ("application/pdf", "Bescheid.pdf", True),
        ("image/heic", "IMG_0042.HEIC", True),
        (None, "scan.JPG", True),
        ("application/octet-stream", "brief.png", True),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "a.docx",
            False,
        ),
        ("audio/ogg", None, False),
        (None, None, False),
    ],
)
def test_which_files_are_letters(mime, name, page):
    assert is_page(mime, name) is page


async def test_ocr_off_queues_nothing(db, cases, clock, i18n, pages, notices, resident_factory):
    off = LetterService(
        LetterRepository(db),
        cases,
        None,
        pages,
        LetterEnvelopes(staff_group=True),
        ContentStore(CONTENT_DIR),
        i18n,
        clock,
        TZ,
    )
    dmitri = await resident_factory()
    await submitted_with(cases, dmitri, photo(1))
    await off.enqueue(1, 1)
    assert not off.reading and await off.run_once() == 0
    assert await db.fetchall("SELECT id FROM letters") == []


async def test_case_cards_with_a_deadline_are_renewed_once_a_day(
    letters, cases, resident_factory, clock, changes, i18n
):
    open_case = await submitted_with(cases, await resident_factory(user_id=1), text("a", 1, 1))
    closed = await submitted_with(cases, await resident_factory(user_id=2), text("b", 1, 2))
    for case_ in (open_case, closed):
        await letters.set_deadline(case_.id, STAFF_ID, date(2026, 12, 20))
    await cases.close(closed.id, STAFF_ID)
    changes.clear()
    await letters.refresh_cards()
    await letters.refresh_cards()  # the same day: nothing again
    assert changes == [open_case.id]
    clock.advance(timedelta(days=1))
    await letters.refresh_cards()
    assert changes == [open_case.id, open_case.id]
    assert (await cases.get(open_case.id)).deadline.days_left == 18
    # A restart the same day renews nothing: the staff group takes 20 messages a minute.
    restarted = LetterService(
        letters.repo, cases, None, None, None, None, i18n, clock, TZ, on_change=changes
    )
    await restarted.refresh_cards()
    assert changes == [open_case.id, open_case.id]


def test_a_long_letter_is_cut_to_one_telegram_message(i18n):
    """The recognised text goes into one message: at most 4096 characters as Telegram counts
    them (after the HTML is parsed), with a note that it was cut."""
    from bot.letters import extract, notices
    from bot.letters.reading import LetterReading
    from bot.sandbox.formatting import parse_text, utf16_len

    words = extract.clean(plain_text(case("jc_erstattung").letter)) * 6
    assert len(words) > 6000
    reading = LetterReading(2, (), SenderKind.JOBCENTER, None, None, None, (), words)
    html, _ = notices.staff_reading(
        i18n.translator("de"), 1, reading, date(2026, 12, 1), date(2026, 12, 1)
    )
    plain, entities = parse_text(html, "HTML")
    assert utf16_len(plain) <= 4096 and "[gekürzt: der Brief" in plain
    assert [e["type"] for e in entities].count("expandable_blockquote") == 1
