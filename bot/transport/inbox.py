"""The durable inbox: updates are stored before Telegram counts them as delivered.

python-telegram-bot's own Updater confirms an update (the next getUpdates offset, or the webhook's
200) as soon as it sits in an in-memory queue, before any handler ran; a kill -9 then loses it for
good, because Telegram drops confirmed updates. Here the receivers (bot/transport/polling.py,
bot/transport/webhook.py) write each update to SQLite first, as the JSON text Telegram sent, and
confirm afterwards. Only then is it read by python-telegram-bot (bot/transport/intake.py): an
update the library cannot read is already stored and can be put aside without losing it.

When an update counts as handled (the rule; bot/transport/update_processor.py applies it):

- Every start of a handler is written *before* it runs (`attempts`), every end after it: done,
  or a failure the bot saw (`failures`, with the error's class name). A pending row therefore
  tells at the next start what became of it. An update that will run at once (its chat idle, a
  slot free: the intake decides) is stored with its first start already counted, in the same
  statement: one commit less before the answer. Put back without having run (shutdown), its
  start is taken back (`unstart`).
- attempts == failures: never started, or waiting for its next try: it is handled.
- attempts > failures: the process died while handling it (kill -9, a crash, a power cut).
  - A message with content that is not a command (`replay_safe`) is handled again: case
    messages are UNIQUE per Telegram message, so a replay finds it stored and sends nothing
    twice; a resident's message is never lost. Unless it was under way at CRASH_LIMIT deaths:
    then it is what kills the process, and it is quarantined (kept, admins told).
  - Anything else (commands, button presses, membership changes) is not handled again: it may
    have been answered already, and answering twice is worse than tapping once more. It is
    marked done.
- A failure the bot sees is no death. A transient one (Telegram's 5xx, a timeout, a 429, a
  service that cannot answer right now) is tried again after a pause, also after a restart, up
  to MAX_ATTEMPTS starts; then, or at once for a bug, the update is parked: kept with its
  error, staff told. A handler that fails after it answered may answer twice on the retry;
  most fail before (the staff check, loading the resident). A 403 (the person blocked the bot)
  is done: there is nobody to answer.
- A storage failure (disk full, read-only or locked database) is neither: the update stays
  pending, untouched, until the database can be written again.
- Unreadable by python-telegram-bot (an update from a newer or older Bot API): quarantined.

Done rows keep no payload; quarantined and parked rows keep it (sealed like case content) for
KEEP_HELD, so that `python -m bot inbox --retry` can hand them back after a fix.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.clock import Clock
from bot.core.crypto import Cipher
from bot.core.db import Database

logger = logging.getLogger(__name__)

# Handled update_ids are kept this long to recognise a redelivery; Telegram keeps an unconfirmed
# update for 24 hours, so two days is ample.
KEEP_DONE = timedelta(days=2)
# Quarantined and parked updates (with their content) wait this long for somebody to look.
KEEP_HELD = timedelta(days=14)
# Handler starts before an update that keeps failing transiently is parked.
MAX_ATTEMPTS = 4
# Deaths of the process while an update was being handled before it is quarantined: the first
# time it cannot be told from the others under way, the second time it is replayed alone.
CRASH_LIMIT = 2

# Message content that goes into a case (and is therefore deduplicated there).
_CONTENT = ("text", "caption", "photo", "document", "voice", "audio", "video", "video_note")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- what a raw update says, read without python-telegram-bot -----------------------------------


def update_kind(data: dict[str, Any]) -> str | None:
    """message, callback_query, poll_answer …: the one field beside update_id."""
    return next((key for key in data if key != "update_id"), None)


def _id(value: Any) -> int | None:
    if isinstance(value, dict) and type(value.get("id")) is int:
        return value["id"]
    return None


def update_chat(data: dict[str, Any]) -> int | None:
    """The chat of an update, else its user (as python-telegram-bot's effective_chat and
    effective_user would say); None for the few updates that have neither."""
    kind = update_kind(data)
    body = data.get(kind) if kind else None
    if not isinstance(body, dict):
        return None
    for found in (
        _id(body.get("chat")),
        _id(body.get("message", {}).get("chat")) if isinstance(body.get("message"), dict) else None,
        _id(body.get("voter_chat")),
        _id(body.get("from")),
        _id(body.get("user")),
    ):
        if found is not None:
            return found
    return None


def update_topic(data: dict[str, Any]) -> int | None:
    """The forum topic a message (or a button press under one) belongs to: in the staff group
    each case has its topic, and what is said in one need not wait for another."""
    kind = update_kind(data)
    body = data.get(kind) if kind else None
    message = body.get("message") if kind == "callback_query" and isinstance(body, dict) else body
    if not isinstance(message, dict) or not message.get("is_topic_message"):
        return None
    thread = message.get("message_thread_id")
    return thread if type(thread) is int else None


def private_sender(data: dict[str, Any]) -> tuple[int, str | None] | None:
    """(chat id, language code) of a person writing or pressing in a private chat; None for
    groups and for updates that nobody wrote."""
    kind = update_kind(data)
    body = data.get(kind) if kind else None
    if kind not in ("message", "edited_message", "callback_query") or not isinstance(body, dict):
        return None
    message = body.get("message") if kind == "callback_query" else body
    chat = message.get("chat") if isinstance(message, dict) else None
    sender = body.get("from")
    if not isinstance(chat, dict) or chat.get("type") != "private" or _id(chat) is None:
        return None
    language = sender.get("language_code") if isinstance(sender, dict) else None
    return _id(chat), language if isinstance(language, str) else None


def replay_safe(data: dict[str, Any]) -> bool:
    """True when handling the update twice is harmless (see the module docstring)."""
    message = data.get("message")
    if not isinstance(message, dict):
        return False
    text = message.get("text")
    if isinstance(text, str) and text.startswith("/"):
        return False
    return any(message.get(field) for field in _CONTENT)


@dataclass(frozen=True)
class Received:
    """An update as Telegram sent it: its JSON text, and that text decoded."""

    update_id: int
    raw: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Stored:
    """A pending row read back from the inbox."""

    update_id: int
    raw: str
    chat_id: int | None
    attempts: int
    failures: int


@dataclass(frozen=True)
class Held:
    """A quarantined or parked update, as `python -m bot inbox` lists it (no content)."""

    update_id: int
    state: str
    kind: str | None
    error: str | None
    attempts: int
    received_at: str


class InboxRepository:
    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    async def store(
        self, updates: Sequence[Received], now: datetime, started: Collection[int] = ()
    ) -> set[int]:
        """Store updates as received, those in `started` with their first start counted;
        returns the ids not seen before.

        One statement (a statement is its own transaction in autocommit mode): this runs for
        every batch Telegram delivers, so it is kept to a single round trip to SQLite."""
        if not updates:
            return set()
        values = ",".join("(?, ?, ?, ?, ?, ?)" for _ in updates)
        params: list[object] = []
        received = _iso(now)
        for update in updates:
            params += [
                update.update_id,
                self._cipher.seal(update.raw),
                received,
                update_kind(update.data),
                update_chat(update.data),
                int(update.update_id in started),
            ]
        rows = await self._db.fetchall(
            "INSERT INTO inbox (update_id, payload, received_at, kind, chat_id, attempts)"
            f" VALUES {values} ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            params,
        )
        return {row[0] for row in rows}

    async def mark(self, started: Sequence[int], done: Sequence[int], now: datetime) -> None:
        """Starts and ends of handling, many updates in one transaction (one fsync)."""
        if started and done:
            async with self._db.transaction() as tx:
                await tx.execute(*self._started(started))
                await tx.execute(*self._done(done, now))
        elif started:
            await self._db.execute(*self._started(started))
        elif done:
            await self._db.execute(*self._done(done, now))

    @staticmethod
    def _started(ids: Sequence[int]) -> tuple[str, list[object]]:
        marks = ",".join("?" * len(ids))
        return f"UPDATE inbox SET attempts = attempts + 1 WHERE update_id IN ({marks})", [*ids]

    @staticmethod
    def _done(ids: Sequence[int], now: datetime) -> tuple[str, list[object]]:
        marks = ",".join("?" * len(ids))
        return (
            f"UPDATE inbox SET state = 'done', done_at = ?, payload = NULL"
            f" WHERE update_id IN ({marks}) AND state = 'pending'",
            [_iso(now), *ids],
        )

    async def unstart(self, update_id: int) -> None:
        """A start counted when it was stored, but the update was put back before it ran."""
        await self._db.execute(
            "UPDATE inbox SET attempts = attempts - 1 WHERE update_id = ? AND attempts > failures",
            (update_id,),
        )

    async def failed(self, update_id: int, error: str) -> None:
        await self._db.execute(
            "UPDATE inbox SET failures = failures + 1, error = ? WHERE update_id = ?",
            (error, update_id),
        )

    async def hold(self, update_id: int, state: str, error: str, now: datetime) -> None:
        """Quarantine or park: kept with its payload, no longer pending. (A parked update's
        last failure is counted like the others.)"""
        await self._db.execute(
            "UPDATE inbox SET state = ?, error = ?, done_at = ?, failures = failures + ?"
            " WHERE update_id = ?",
            (state, error, _iso(now), int(state == "parked"), update_id),
        )

    async def forget_payload(self, update_id: int) -> None:
        """A held update keeps its ids, type and error, not what it said."""
        await self._db.execute("UPDATE inbox SET payload = NULL WHERE update_id = ?", (update_id,))

    async def pending(self) -> list[tuple[int, int | None]]:
        """(update_id, chat_id) of every pending update, oldest first (ids only: cheap)."""
        rows = await self._db.fetchall(
            "SELECT update_id, chat_id FROM inbox WHERE state = 'pending' ORDER BY update_id"
        )
        return [(row[0], row[1]) for row in rows]

    async def load(self, update_ids: Sequence[int]) -> list[Stored]:
        if not update_ids:
            return []
        marks = ",".join("?" * len(update_ids))
        rows = await self._db.fetchall(
            "SELECT update_id, payload, chat_id, attempts, failures FROM inbox"
            f" WHERE update_id IN ({marks}) AND state = 'pending' ORDER BY update_id",
            list(update_ids),
        )
        return [
            Stored(row[0], self._cipher.open(row[1]) or "{}", row[2], row[3], row[4])
            for row in rows
        ]

    async def under_way(self) -> list[Stored]:
        """Pending updates with more starts than failures: under way when the process died."""
        rows = await self._db.fetchall(
            "SELECT update_id, payload, chat_id, attempts, failures FROM inbox"
            " WHERE state = 'pending' AND attempts > failures ORDER BY update_id"
        )
        return [
            Stored(row[0], self._cipher.open(row[1]) or "{}", row[2], row[3], row[4])
            for row in rows
        ]

    async def held(self, limit: int = 100) -> list[Held]:
        rows = await self._db.fetchall(
            "SELECT update_id, state, kind, error, attempts, received_at FROM inbox"
            " WHERE state IN ('quarantined', 'parked') ORDER BY update_id LIMIT ?",
            (limit,),
        )
        return [Held(*row) for row in rows]

    async def count_held(self) -> int:
        row = await self._db.fetchone(
            "SELECT COUNT(*) FROM inbox WHERE state IN ('quarantined', 'parked')"
        )
        return row[0]

    async def retry(self, update_ids: Sequence[int]) -> int:
        """Quarantined or parked updates back to pending, as if new (after a fix)."""
        marks = ",".join("?" * len(update_ids))
        return await self._db.execute(
            "UPDATE inbox SET state = 'pending', attempts = 0, failures = 0, error = NULL,"
            f" done_at = NULL WHERE update_id IN ({marks})"
            " AND state IN ('quarantined', 'parked')",
            list(update_ids),
        )

    async def prune(self, now: datetime) -> int:
        """Forget handled update_ids older than KEEP_DONE and held updates older than KEEP_HELD.
        (No high-water mark instead: after a quiet week Telegram picks the next update_id at
        random, possibly below the last one.)"""
        return await self._db.execute(
            "DELETE FROM inbox WHERE (state = 'done' AND done_at < ?)"
            " OR (state IN ('quarantined', 'parked') AND done_at < ?)",
            (_iso(now - KEEP_DONE), _iso(now - KEEP_HELD)),
        )


class Inbox:
    """The inbox as the running bot uses it. Starts and ends of handling are written with group
    commit: the marks of all updates that start or finish while one transaction is being
    written go into the next one, so concurrent updates share one fsync instead of paying one
    each."""

    def __init__(self, repository: InboxRepository, clock: Clock) -> None:
        self.repository = repository
        self._clock = clock
        self._marks: list[tuple[bool, int, asyncio.Future[None]]] = []  # (started?, id, waiter)
        self._writer: asyncio.Task[None] | None = None

    async def store(self, updates: Sequence[Received], started: Collection[int] = ()) -> set[int]:
        """Write updates as received (those in `started` as started); returns the ids not seen
        before, which are to be handled."""
        return await self.repository.store(updates, self._clock.now(), started)

    async def unstart(self, update_id: int) -> None:
        await self.repository.unstart(update_id)

    async def started(self, update_id: int) -> None:
        """Returns once the start is on disk: only then may the handler run."""
        await self._mark(True, update_id)

    async def done(self, update_id: int) -> None:
        await self._mark(False, update_id)

    async def _mark(self, started: bool, update_id: int) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((started, update_id, waiter))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_marks())
        await asyncio.shield(waiter)

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                started = [i for s, i, _ in batch if s]
                done = [i for s, i, _ in batch if not s]
                await self.repository.mark(started, done, self._clock.now())
            except Exception as error:
                for _, _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(error)
                        waiter.exception()  # retrieved here too: a cancelled waiter logs nothing
            else:
                for _, _, waiter in batch:
                    if not waiter.done():
                        waiter.set_result(None)

    async def failed(self, update_id: int, error: str) -> None:
        await self.repository.failed(update_id, error)

    async def hold(self, update_id: int, state: str, error: str) -> None:
        await self.repository.hold(update_id, state, error, self._clock.now())

    async def flush(self) -> None:
        """Wait until every mark is written (before the database closes)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def prune(self) -> int:
        return await self.repository.prune(self._clock.now())
