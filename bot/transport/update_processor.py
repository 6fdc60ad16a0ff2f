"""How updates are worked through: chats in parallel, each chat strictly in order, and every
update marked done in the durable inbox (see bot/transport/inbox.py for when "done" is written)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.transport.inbox import Inbox, replay_safe

logger = logging.getLogger(__name__)

# Enough that a burst of residents answering an announcement is handled side by side while one
# waits for Telegram; SQLite writes are serialised by the database lock anyway.
MAX_CONCURRENT_UPDATES = 32


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """A resident's "topic" press must be handled before the question typed right after it, but
    need not wait for another resident's photo upload: one lock per chat, created on demand and
    dropped when nobody waits for it."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.inbox: Inbox | None = None  # set at start-up, once the database is open

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await self._handle(update, coroutine)
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(update, coroutine)
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def _handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        inbox = self.inbox
        if inbox is None or not isinstance(update, Update):
            await coroutine
            return
        if replay_safe(update):
            try:
                await coroutine
            finally:
                await self._mark_done(inbox, update.update_id)
        else:
            await self._mark_done(inbox, update.update_id)
            await coroutine

    @staticmethod
    async def _mark_done(inbox: Inbox, update_id: int) -> None:
        try:
            await inbox.mark_done(update_id)
        except Exception:
            # The update is handled all the same: answering twice after a restart is better
            # than not answering now.
            logger.exception("update %s could not be marked done in the inbox", update_id)

    async def initialize(self) -> None:
        """Nothing to set up: locks are created on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: the inbox is flushed with the database at shutdown."""
