"""Long polling that stores before it confirms.

Telegram forgets an update once getUpdates is called with an offset above its update_id. So the
offset moves on only after the batch is in the inbox (bot/transport/inbox.py); a kill -9 at any
moment
leaves every unhandled update either in the inbox or still at Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from bot.core.retry import retry_after_seconds
from bot.transport.inbox import Inbox

logger = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


class Poller:
    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        queue: asyncio.Queue,
        *,
        timeout: int = 50,
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._queue = queue
        self._timeout = timeout
        self._allowed = list(allowed_updates)
        self._offset = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._fetch: asyncio.Task[tuple[Update, ...]] | None = None
        # Why polling gave up (a revoked token); `failed` is set then, so the bot stops instead
        # of running on without updates.
        self.fatal: BaseException | None = None
        self.failed = asyncio.Event()
        self._idle = asyncio.Event()  # no fetched batch on its way into the inbox and queue
        self._idle.set()

    async def start(self) -> None:
        # A webhook left over from webhook mode would make every getUpdates a 409.
        await self._bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        """Stop fetching; what was fetched is stored already. A short last call confirms the
        last batch, so Telegram does not send it again at the next start."""
        self._stopping = True
        if self._fetch is not None:
            self._fetch.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._offset and self.fatal is None:
            with contextlib.suppress(TelegramError):
                await self._bot.get_updates(offset=self._offset, timeout=0, limit=1)

    async def _run(self) -> None:
        backoff = 0.5
        while not self._stopping:
            try:
                self._fetch = asyncio.create_task(
                    self._bot.get_updates(
                        offset=self._offset,
                        timeout=self._timeout,
                        allowed_updates=self._allowed,
                        read_timeout=self._timeout + 10,
                    )
                )
                updates = await self._fetch
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except InvalidToken as error:
                logger.error("Telegram refuses the bot token (%s): the bot stops", error.message)
                self.fatal = error
                self.failed.set()
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except Conflict as error:
                logger.warning("getUpdates conflict (%s); is a second instance running?", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except TelegramError as error:  # network errors, timeouts, Telegram's 5xx
                logger.warning("getUpdates failed (%s); next try in %.1f s", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            finally:
                self._fetch = None
            backoff = 0.5
            if updates:
                self._idle.clear()
                try:
                    await self._hand_over(updates)
                finally:
                    self._idle.set()

    async def _hand_over(self, updates: Sequence[Update]) -> None:
        try:
            fresh = await self._inbox.store(
                [(u.update_id, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
            )
        except Exception:
            # Not confirmed, so Telegram sends the batch again at the next call.
            logger.exception("updates could not be stored; fetching them again")
            await asyncio.sleep(1)
            return
        for update in updates:
            if update.update_id in fresh:
                await self._queue.put(update)
        self._offset = updates[-1].update_id + 1

    async def settled(self) -> None:
        """Return once no fetched batch is between Telegram and the update queue (tests)."""
        await self._idle.wait()
