"""Letters residents send into a case, read by the bot, and the deadline each case carries.

A photo or document (JPEG, PNG, HEIC, PDF) a resident sends is stored as a case message first,
like everything else, and becomes a page of a letter in SQLite (`enqueue`); the pages of one
album are one letter. A worker reads each letter once staff have its pages (the relay copied
them), downloads the pages through the Bot API and reads them one at a time off the event loop
(LetterReader: size, page and time limits). Then staff get the reading in the case's topic, the
resident a short answer in their language, and the case the letter's nearest deadline. What
cannot be read is only "not read"; a download that fails is tried again, also after a restart.

Staff correct or clear a deadline (`set_deadline`, /frist); a reminder goes to staff once when a
deadline is near and nobody has answered (`remind_due`, every minute from bot/jobs.py).

Downloads go through a narrow protocol, `PageSource` (bot/transport/letter_notices.py). The
messages to staff and residents are envelopes for the one durable path (bot/letters/envelopes.py),
queued in the transaction that records the reading or claims the reminder; `on_queue` wakes the
courier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.cases.repository import DUE_SOON_DAYS, Case
from bot.cases.service import CaseService
from bot.core.clock import Clock
from bot.core.i18n import STAFF_LANGUAGE, I18n
from bot.core.outgoing import Envelope
from bot.letters import notices
from bot.letters.envelopes import (
    REMINDER_LABEL,
    LetterEnvelopes,
    reading_keys,
    reminder_key,
)
from bot.letters.extract import SenderKind
from bot.letters.reader import LetterReader
from bot.letters.reading import Failure, LetterReading
from bot.letters.repository import LetterRepository, PendingLetter
from bot.selfhelp.content import Answer
from bot.selfhelp.repository import ContentStore
from bot.text.textnorm import normalise

logger = logging.getLogger(__name__)

# Album pages arrive as separate updates a moment apart: a letter with an album waits this long
# after its last page before it is read, so that it is read once, whole.
ALBUM_SETTLE_S = 1.5
# While a letter waits for the relay to copy its pages to staff, look again this often.
WAITING_POLL_S = 0.5
# A download that keeps failing (Telegram's file servers down) is given up after this many tries.
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(minutes=10)

# Documents that are letters: photos sent as files (iPhones save HEIC) and PDFs. Other files
# (Word, spreadsheets, audio) are relayed to staff as always but not read.
PAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/heic", "image/heif", "image/webp", "image/tiff"}
    | {"application/pdf"}
)
PAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff", ".pdf")

# The quick answers (content/faq) that may fit a sender: those with one of these keywords.
# Among them the letter's own text picks the best; a sender not listed gets the general answer
# about letters.
QUICK_ANSWER_HINTS: dict[SenderKind, tuple[str, ...]] = {
    SenderKind.JOBCENTER: (
        "mitwirkung", "einladung", "meldetermin", "weiterbewilligung", "bescheid",
        "leistungsminderung",
    ),
    SenderKind.AUSLAENDERBEHOERDE: ("ausländerbehörde",),
    SenderKind.FAMILIENKASSE: ("familienkasse",),
    SenderKind.KRANKENKASSE: ("krankenkasse",),
    SenderKind.RENTENVERSICHERUNG: ("bescheid", "stellungnahme", "frist"),
    SenderKind.GERICHT: ("gericht", "mahnbescheid"),
    SenderKind.INKASSO: ("mahnung", "inkasso"),
    SenderKind.VERMIETER: ("mietschuld", "nebenkosten", "kündigung", "schimmel", "räumung"),
    SenderKind.STADTWERKE: ("stadtwerke", "nebenkosten"),
    SenderKind.FINANZAMT: ("bescheid", "frist"),
    SenderKind.SCHULE: ("schule", "klassenfahrt"),
}  # fmt: skip
GENERAL_HINT = ("brief",)


def is_page(mime_type: str | None, file_name: str | None) -> bool:
    """Whether a document sent as a file is a letter to read (a photo always is)."""
    if mime_type and mime_type.lower() in PAGE_TYPES:
        return True
    return bool(file_name) and file_name.lower().endswith(PAGE_SUFFIXES)


class PageUnavailable(Exception):
    """The page could not be downloaded now (network, Telegram busy): try again later."""


class PageRefused(Exception):
    """The page will never be downloaded (too large for the Bot API, gone): not read."""

    def __init__(self, reason: Failure) -> None:
        super().__init__(str(reason))
        self.reason = reason


class PageSource(Protocol):
    async def fetch(self, file_id: str) -> bytes:
        """The file's bytes; raises PageUnavailable or PageRefused."""
        ...


class LetterService:
    def __init__(
        self,
        repo: LetterRepository,
        cases: CaseService,
        reader: LetterReader | None,
        pages: PageSource,
        envelopes: LetterEnvelopes,
        content: ContentStore,
        i18n: I18n,
        clock: Clock,
        timezone: ZoneInfo,
        *,
        on_change: Callable[[int], None] = lambda case_id: None,
        on_queue: Callable[[], None] = lambda: None,
        album_settle_s: float = ALBUM_SETTLE_S,
        idle_interval: float = 30.0,
    ) -> None:
        self.repo = repo
        self._cases = cases
        self._reader = reader  # None: THINKA_OCR=off, letters are not read
        self._pages = pages
        self._envelopes = envelopes
        self._content = content
        self._i18n = i18n
        self._clock = clock
        self._tz = timezone
        self._on_change = on_change  # the case card shows the deadline: refresh it
        self._on_queue = on_queue  # notices were queued: wake the courier
        self._album_settle_s = album_settle_s
        self._idle_interval = idle_interval
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._settling: dict[int, float] = {}  # album letter -> loop time it may be read
        self._waiting_for_relay = False
        self._next_retry: datetime | None = None
        self._cards_day: date | None = None

    @property
    def reading(self) -> bool:
        """False when THINKA_OCR=off: nothing is queued or read; deadlines still work."""
        return self._reader is not None

    def today(self) -> date:
        return self._clock.now().astimezone(self._tz).date()

    # -- intake -----------------------------------------------------------------------------
    async def enqueue(self, chat_id: int, message_id: int) -> None:
        """The resident's message (already stored in their case) is a page to read."""
        if self._reader is None:
            return
        page = await self.repo.add_page(chat_id, message_id, self._clock.now())
        if page is None:
            return
        if page.album:
            loop = asyncio.get_running_loop()
            self._settling[page.letter_id] = loop.time() + self._album_settle_s
        self.kick()

    # -- the worker -------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._reader is not None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="letters")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._reader is not None:
            # A page being read finishes in its thread (time-limited); the letter stays pending
            # in the database and is read after the restart.
            self._reader.close()

    async def settled(self) -> None:
        """Return once no letter is being read, due, settling, or about to be (its pages are
        being copied to staff): for an orderly shutdown and for tests."""
        # Several conditions, no single event to wait on: a short poll is the simple way.
        while (  # noqa: ASYNC110
            self._wake.is_set()
            or self._lock.locked()
            or self._settling
            or (self._task is not None and self._waiting_for_relay)
        ):
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("letter pass failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_wake())

    def _next_wake(self) -> float:
        waits = [self._idle_interval]
        if self._waiting_for_relay:
            waits.append(WAITING_POLL_S)
        if self._settling:
            now = asyncio.get_running_loop().time()
            waits.append(min(self._settling.values()) - now)
        if self._next_retry is not None:
            waits.append((self._next_retry - self._clock.now()).total_seconds())
        return max(0.01, min(waits))

    async def run_once(self) -> int:
        """Read every letter that is due; returns how many were read or given up."""
        if self._reader is None:
            return 0
        async with self._lock:
            now = self._clock.now()
            loop_now = asyncio.get_running_loop().time()
            waiting = await self.repo.waiting()
            self._waiting_for_relay = any(not w.relayed for w in waiting)
            retries = [w.read_after for w in waiting if w.read_after and w.read_after > now]
            self._next_retry = min(retries) if retries else None
            done = 0
            for letter in waiting:
                if not letter.relayed or (letter.read_after and letter.read_after > now):
                    continue
                if self._settling.get(letter.id, 0.0) > loop_now:
                    continue  # an album whose next page may still come
                self._settling.pop(letter.id, None)
                done += await self._read(letter)
            # An album that settled while its case was still a draft is read when it is ready.
            self._settling = {k: t for k, t in self._settling.items() if t > loop_now}
            return done

    async def _read(self, letter: PendingLetter) -> int:
        assert self._reader is not None
        case = await self._cases.get(letter.case_id)
        if case is None:
            return 0
        pages = [p for p in await self.repo.pages(letter.id) if p.file_id]
        files: list[bytes] = []
        refused: list[str] = []
        for page in pages:
            try:
                files.append(await self._pages.fetch(page.file_id or ""))
            except PageUnavailable as error:
                return await self._retry(letter, str(error))
            except PageRefused as error:
                refused.append(str(error.reason))
        received = letter.created_at.astimezone(self._tz).date()
        reading = (
            await self._reader.read(files, received=received)
            if files
            else LetterReading.not_read([])
        )
        if any(f.reason is Failure.BUSY for f in reading.failures):
            return await self._retry(letter, "busy")
        # Why pages were not read; for a letter read, those of its pages that were not.
        reasons = sorted({*refused, *(str(f.reason) for f in reading.failures)})
        now = self._clock.now()
        if reading.read:
            await self._store(case, letter, reading, received, reasons)
        elif reasons == [str(Failure.NO_TEXT)]:
            staff_key, resident_key = reading_keys(letter.id)
            queued = [
                self._envelopes.to_staff(
                    case,
                    notices.staff_unreadable(self._i18n.translator(STAFF_LANGUAGE)),
                    key=staff_key,
                ),
                *self._envelopes.to_resident(
                    case,
                    notices.resident_photo_hint(self._i18n.translator(case.language)),
                    key=resident_key,
                ),
            ]
            if not await self.repo.finish(
                letter.id, "unreadable", now, failure=",".join(reasons), notices=queued
            ):
                return 0
            self._on_queue()
            logger.info("letter %s of case %s: no text found", letter.id, case.id)
        else:
            # Not an image, too large, the engine failed or ran out of time: "not read", and
            # staff still have the photo itself.
            failure = ",".join(reasons) or "no_pages"
            await self.repo.finish(letter.id, "not_read", now, failure=failure)
            logger.info("letter %s of case %s not read: %s", letter.id, case.id, failure)
        return 1

    async def _retry(self, letter: PendingLetter, reason: str) -> int:
        now = self._clock.now()
        if letter.attempts + 1 >= MAX_ATTEMPTS:
            await self.repo.finish(letter.id, "not_read", now, failure="download")
            logger.warning("letter %s not read: download failed %d times", letter.id, MAX_ATTEMPTS)
            return 1
        wait = min(timedelta(seconds=5 * 2**letter.attempts), MAX_BACKOFF)
        await self.repo.retry_later(letter.id, now + wait)
        logger.warning(
            "letter %s: download failed (%s); retry in %ss", letter.id, reason, wait.seconds
        )
        self._next_retry = min(filter(None, (self._next_retry, now + wait)))
        return 0

    async def _store(
        self,
        case: Case,
        letter: PendingLetter,
        reading: LetterReading,
        received: date,
        unread_pages: list[str],
    ) -> None:
        now = self._clock.now()
        today = self.today()
        stored = {**reading.as_dict(), "received": received.isoformat(), "text": reading.text}
        summary = notices.as_case_deadline(reading, today)
        # The reading and the deadline it gives the case in one commit: a kill between two
        # would leave a read letter whose deadline is lost for good (it is never read again),
        # and the deadline pass could meet a read letter without it.
        async with self.repo.unit():
            if not await self.repo.finish(
                letter.id,
                "read",
                now,
                reading=json.dumps(stored),
                failure=",".join(unread_pages) or None,
                notices=self._reading_notices(case, letter, reading, received, today),
            ):
                return  # erased while it was being read: nothing of it may be kept or sent
            changed = await self.repo.offer_deadline(
                case.id,
                letter.id,
                summary.due,
                summary.estimated,
                json.dumps(
                    {
                        "sender": summary.sender,
                        "reference": summary.reference,
                        "wording": summary.wording,
                    }
                ),
                now,
            )
        self._on_queue()
        logger.info(
            "letter %s of case %s read: %d pages, %d deadlines, case deadline %s",
            letter.id,
            case.id,
            reading.pages_read,
            len(reading.deadlines),
            "set" if changed else "kept",
        )
        if changed:
            self._on_change(case.id)

    def _reading_notices(
        self,
        case: Case,
        letter: PendingLetter,
        reading: LetterReading,
        received: date,
        today: date,
    ) -> list[Envelope]:
        """Staff get the reading in the case's topic; the resident a short answer."""
        staff_key, resident_key = reading_keys(letter.id)
        staff_tr = self._i18n.translator(STAFF_LANGUAGE)
        html, markup = notices.staff_reading(staff_tr, case.id, reading, received, today)
        queued = [self._envelopes.to_staff(case, html, markup, key=staff_key)]
        tr = self._i18n.translator(case.language)
        if _nothing_found(reading):
            # Text, but nothing a letter has (a date, a sender, a number): most likely a blurred
            # or partial photo. Staff see what was read; the resident gets the photo hint.
            html, markup = notices.resident_photo_hint(tr), None
        else:
            html, markup = notices.resident_reading(
                tr,
                reading,
                self.quick_answer(reading),
                # No date and no deadline: part of the page may be missing or blurred.
                photo_hint=reading.letter_date is None and not reading.deadlines,
            )
        return queued + self._envelopes.to_resident(case, html, markup, key=resident_key)

    def quick_answer(self, reading: LetterReading) -> Answer | None:
        """The self-help answer that fits the letter best (content/faq), if any: of those with
        one of its sender's keywords, the one the letter's own text matches best."""
        content = self._content.current
        hint = {normalise(word) for word in QUICK_ANSWER_HINTS.get(reading.sender, GENERAL_HINT)}
        fitting = [a for a in content.answers if hint & set(a.keywords["de"])]
        # German keywords: the letter is German, whatever the resident reads.
        ranked = content.match(reading.text, "de", limit=len(content.answers))
        return next((a for a in ranked if a in fitting), fitting[0] if fitting else None)

    # -- deadlines --------------------------------------------------------------------------
    async def set_deadline(self, case_id: int, staff_id: int, due: date | None) -> Case:
        """/frist: staff correct (a date) or clear (None) a case's deadline; audited."""
        case = await self._cases.case_for_staff(case_id)
        await self.repo.set_deadline(case.id, due, staff_id, self._clock.now())
        await self._cases.audit(staff_id, "deadline" if due else "deadline_cleared", case.id)
        self._on_change(case.id)
        return await self._cases.case_for_staff(case.id)

    async def remind_due(self) -> int:
        """Once per deadline: staff are told when it is DUE_SOON_DAYS away or less and nobody
        has answered the resident since it became known. Claimed and queued in one transaction,
        so a restart never sends it twice; the courier retries a send that fails."""
        now = self._clock.now()
        last_day = self.today() + timedelta(days=DUE_SOON_DAYS)
        tr = self._i18n.translator(STAFF_LANGUAGE)
        queued = 0
        for case_id in await self.repo.due_for_reminder(last_day):
            case = await self._cases.get(case_id)
            if case is None or case.deadline is None or case.deadline.days_left is None:
                continue
            reminder = self._envelopes.to_staff(
                case,
                notices.staff_reminder(tr, case),
                key=reminder_key(case_id, now),
                label=REMINDER_LABEL,
            )
            if await self.repo.claim_reminder(case_id, now, [reminder]):
                queued += 1
                logger.info("deadline reminder for case %s queued", case_id)
        if queued:
            self._on_queue()
        return queued

    async def refresh_cards(self) -> None:
        """Once a day (also across restarts): cards with a deadline say "in 3 days" again from
        the new day."""
        today = self.today()
        if today == self._cards_day:
            return
        self._cards_day = today
        if await self.repo.claim_cards_day(today):
            for case_id in await self.repo.open_cases_with_deadline():
                self._on_change(case_id)


def _nothing_found(reading: LetterReading) -> bool:
    return (
        reading.sender is SenderKind.SONSTIGE
        and reading.letter_date is None
        and reading.reference is None
        and not reading.deadlines
    )
