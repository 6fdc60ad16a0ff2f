"""The durable inbox: updates are stored before Telegram counts them as delivered.

python-telegram-bot's own Updater confirms an update (the next getUpdates offset, or the webhook's
200) as soon as it sits in an in-memory queue, before any handler ran; a kill -9 then loses it for
good, because Telegram drops confirmed updates. Here the receivers (bot/transport/polling.py,
bot/transport/webhook.py)
write each update to SQLite first and confirm afterwards; the update processor marks it done.

What "done" means depends on whether handling the update twice is harmless:
- A message with content (text, photo, voice …) that is not a command is marked done *after* it
  was handled. Handling it again is harmless: case_messages is UNIQUE per Telegram message, so a
  replay finds it stored and sends nothing. So a resident's message is never lost.
- Everything else (commands, button presses, membership changes) is marked done *before* it is
  handled: a restart never answers it a second time. The price: one that was being handled at the
  instant of a kill -9 is not handled again, and the resident taps once more.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from telegram import Bot, Update

from bot.core.clock import Clock
from bot.core.crypto import Cipher
from bot.core.db import Database

logger = logging.getLogger(__name__)

# Handled update_ids are kept this long to recognise a redelivery; Telegram keeps an unconfirmed
# update for 24 hours, so two days is ample.
KEEP_DONE = timedelta(days=2)

# Message content that goes into a case (and is therefore deduplicated there).
_CONTENT = ("text", "caption", "photo", "document", "voice", "audio", "video", "video_note")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class InboxRepository:
    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    async def store(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store (update_id, raw JSON) pairs; returns the ids not seen before.

        One statement (a statement is its own transaction in autocommit mode): this runs for
        every batch Telegram delivers, so it is kept to a single round trip to SQLite."""
        if not updates:
            return set()
        values = ",".join("(?, ?, ?)" for _ in updates)
        params: list[object] = []
        for update_id, raw in updates:
            params += [update_id, self._cipher.seal(raw), _iso(now)]
        rows = await self._db.fetchall(
            f"INSERT INTO inbox (update_id, payload, received_at) VALUES {values}"
            " ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
            params,
        )
        return {row[0] for row in rows}

    async def mark_done(self, update_ids: Sequence[int], now: datetime) -> None:
        marks = ",".join("?" * len(update_ids))
        await self._db.execute(
            f"UPDATE inbox SET done_at = ?, payload = NULL WHERE update_id IN ({marks})",
            [_iso(now), *update_ids],
        )

    async def pending(self) -> list[tuple[int, str]]:
        rows = await self._db.fetchall(
            "SELECT update_id, payload FROM inbox WHERE done_at IS NULL ORDER BY update_id"
        )
        return [(row[0], self._cipher.open(row[1]) or "{}") for row in rows]

    async def prune(self, now: datetime) -> int:
        """Forget handled update_ids older than KEEP_DONE. (No high-water mark instead: after a
        quiet week Telegram picks the next update_id at random, possibly below the last one.)"""
        return await self._db.execute(
            "DELETE FROM inbox WHERE done_at IS NOT NULL AND done_at < ?",
            (_iso(now - KEEP_DONE),),
        )


def replay_safe(update: Update) -> bool:
    """True when handling `update` twice is harmless (see the module docstring)."""
    message = update.message
    if message is None:
        return False
    text = message.text or ""
    if text.startswith("/"):
        return False
    return any(getattr(message, field) for field in _CONTENT)


class Inbox:
    """Stores updates, hands out what is pending, and marks updates done with group commit:
    the marks of all updates finished while one transaction is being written go into the next
    one, so concurrent updates share one fsync instead of paying one each."""

    def __init__(self, repository: InboxRepository, bot: Bot, clock: Clock) -> None:
        self._repository = repository
        self._bot = bot
        self._clock = clock
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def open(self) -> list[Update]:
        """At start-up: the updates a previous run stored but did not finish, oldest first."""
        await self._repository.prune(self._clock.now())
        updates = []
        for update_id, raw in await self._repository.pending():
            try:
                update = Update.de_json(json.loads(raw), self._bot)
            except Exception:  # a row we cannot read must not stop the bot: drop it, say so
                logger.exception("inbox update %s cannot be read; marked done", update_id)
                await self.mark_done(update_id)
                continue
            if update is not None:
                updates.append(update)
        if updates:
            logger.info("%d updates from the previous run are handled first", len(updates))
        return updates

    async def store(self, updates: Sequence[tuple[int, str]]) -> set[int]:
        """Write raw updates; returns the ids not seen before, which are to be handled."""
        return await self._repository.store(updates, self._clock.now())

    async def mark_done(self, update_id: int) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._marks.append((update_id, waiter))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_marks())
        await asyncio.shield(waiter)

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await self._repository.mark_done([i for i, _ in batch], self._clock.now())
            except Exception as error:
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_exception(error)
            else:
                for _, waiter in batch:
                    if not waiter.done():
                        waiter.set_result(None)

    async def flush(self) -> None:
        """Wait until every mark is written (before the database closes)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def prune(self) -> int:
        return await self._repository.prune(self._clock.now())
