"""The broadcast outbox: one row per recipient in SQLite, sent at THINKA_BROADCAST_RATE.

Why a Bot of its own: python-telegram-bot's AIORateLimiter pauses *every* request after a 429. A
broadcast that hits Telegram's flood limit must not hold up a social worker's answer, so the
outbox sends through a separate Bot without that limiter, paces itself, and on a 429 pauses only
itself for the retry_after Telegram names.

Exactly once: rows are taken in small chunks and marked 'sending' before they are sent, and their
results are written when the chunk is done. After a crash, 'sending' rows are not sent again (no
second copy); only a chunk that was in flight at the moment of a kill -9 can be uncertain.
Residents who blocked the bot (403) are marked and skipped from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import DEFAULT_LANGUAGE, I18n
from bot.core.retry import retry_after_seconds
from bot.events.repository import Broadcast, Delivery, EventRepository

logger = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
PROGRESS_EVERY = 2.0  # seconds between progress edits for staff


@dataclass
class OutboxStats:
    sent: int = 0
    rate_limited: int = 0  # 429 answers
    blocked: int = 0
    failed: int = 0


class Outbox:
    def __init__(
        self,
        bot: Bot,
        repository: EventRepository,
        clock: Clock,
        i18n: I18n,
        rate: float,
        *,
        on_blocked: Callable[[int], Awaitable[None]],
        concurrency: int = 4,
        idle_interval: float = 5.0,
    ) -> None:
        self._bot = bot
        self._repo = repository
        self._clock = clock
        self._i18n = i18n
        # 3 % of the rate (at least one message a second) stays free for conversations, which
        # share Telegram's limit: a 429 costs the broadcast a whole retry_after pause.
        self._base_interval = self._interval = 1.0 / max(rate - max(1.0, rate * 0.03), rate / 2)
        self._on_blocked = on_blocked
        # Small chunks: two of them are 'sending' at once, the window a kill -9 leaves uncertain.
        self._chunk = max(1, min(concurrency, int(rate // 20) or 1))
        self._idle_interval = idle_interval
        self._wake = asyncio.Event()
        self._busy = False
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._next_send = 0.0
        self._paused_until = 0.0
        self._last_progress: dict[int, float] = {}
        self._broadcasts: dict[int, tuple[Broadcast, dict[str, str], str | None]] = {}
        self.stats = OutboxStats()

    # -- lifecycle --------------------------------------------------------------------------
    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        await self._bot.initialize()
        # Rows a killed process left 'sending' were handed to Telegram or nearly: not sent again.
        uncertain = await self._repo.settle_unconfirmed(self._clock.now())
        if uncertain:
            logger.warning(
                "%d broadcast messages were in flight when the bot stopped; not "
                "sent again (at most once)",
                uncertain,
            )
        self._stopping = False
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="outbox")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the chunk under way (nothing left half-sent), then stop."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None
        await self._bot.shutdown()

    async def settled(self) -> None:
        """Return once nothing is due or being sent (for tests and orderly shutdown)."""
        while self._wake.is_set() or self._busy:  # noqa: ASYNC110 - two flags, no one event
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._busy = True
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox pass failed; retrying at the next interval")
            finally:
                self._busy = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_interval)

    # -- sending ----------------------------------------------------------------------------
    async def drain(self) -> None:
        """Send everything due, chunk by chunk; then close finished broadcasts.

        The database work overlaps the sending: while one chunk goes out, the next is taken and
        marked and the previous one's results are written, so the pacing never waits for a disk
        sync. At most two chunks are marked 'sending' at once (the window a kill -9 leaves
        uncertain).
        """
        await self._repo.skip_gone(self._clock.now())
        batch = await self._take_chunk()
        writing: asyncio.Future | None = None
        while batch:
            sending = asyncio.gather(*(self._paced_send(d) for d in batch))
            upcoming = asyncio.ensure_future(self._take_chunk())
            results = await sending
            if writing is not None:
                await writing
            writing = asyncio.ensure_future(self._record(batch, results))
            batch = await upcoming
        if writing is not None:
            await writing
        for broadcast_id in await self._repo.sending_broadcasts():
            if await self._repo.finish(broadcast_id, self._clock.now()):
                await self._report(broadcast_id, final=True)
                self._broadcasts.pop(broadcast_id, None)

    async def _take_chunk(self) -> list[Delivery]:
        if self._stopping:
            return []
        batch = await self._repo.due_deliveries(limit=self._chunk)
        if batch:
            await self._repo.mark_many(
                [(d.broadcast_id, d.resident_id, "sending", None, None) for d in batch],
                self._clock.now(),
                attempt=False,
            )
        return batch

    async def _record(self, batch: list[Delivery], results) -> None:
        await self._repo.mark_many(
            [
                (d.broadcast_id, d.resident_id, status, message_id, error)
                for d, (status, message_id, error) in zip(batch, results, strict=True)
            ],
            self._clock.now(),
            attempt=True,
        )
        for delivery, (status, _, _) in zip(batch, results, strict=True):
            if status == "blocked":
                await self._on_blocked(delivery.resident_id)
        for broadcast_id in {d.broadcast_id for d in batch}:
            await self._report(broadcast_id)

    async def _paced_send(self, delivery: Delivery) -> tuple[str, int | None, str | None]:
        loop = asyncio.get_running_loop()
        # Pacing: one start every 1/rate seconds, and nothing while Telegram asked us to wait.
        slot = max(self._next_send, loop.time(), self._paused_until)
        self._next_send = slot + self._interval
        await asyncio.sleep(max(0.0, slot - loop.time()))
        # A 429 from a parallel send may have moved the pause on while this one slept.
        while self._paused_until > loop.time():  # noqa: ASYNC110 - a deadline, not an event
            await asyncio.sleep(self._paused_until - loop.time())
        try:
            message_id = await self._send(delivery)
        except RetryAfter as error:
            self.stats.rate_limited += 1
            self._paused_until = max(self._paused_until, loop.time() + retry_after_seconds(error))
            # Other traffic shares Telegram's limit: slow down a little, recover slowly.
            self._interval = min(self._interval * 1.05, self._base_interval * 2)
            return "pending", None, "429"
        except Forbidden as error:
            self.stats.blocked += 1
            return "blocked", None, error.message
        except BadRequest as error:
            self.stats.failed += 1
            return "failed", None, error.message
        except NetworkError as error:
            # Not sent, or not known to be: try again after a short pause.
            self._paused_until = max(self._paused_until, loop.time() + 1.0)
            return "pending", None, type(error).__name__
        except TelegramError as error:
            self.stats.failed += 1
            return "failed", None, str(error)
        self.stats.sent += 1
        self._interval = max(self._base_interval, self._interval * 0.999)
        return "sent", message_id, None

    async def _send(self, delivery: Delivery) -> int:
        broadcast, texts, photo = await self._broadcast(delivery.broadcast_id)
        text = texts.get(delivery.language) or texts[DEFAULT_LANGUAGE]
        markup = None
        if broadcast.kind in ("event", "update") and broadcast.event_id is not None:
            tr = self._i18n.translator(delivery.language)
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._("🙋 I'm coming"),
                            callback_data=callbacks.EVENTS("rsvp", broadcast.event_id),
                        )
                    ]
                ]
            )
        if photo and broadcast.kind == "event" and len(text) <= CAPTION_LIMIT:
            sent = await self._bot.send_photo(
                delivery.chat_id,
                photo,
                caption=text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        else:
            sent = await self._bot.send_message(
                delivery.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                disable_web_page_preview=True,
            )
        return sent.message_id

    async def _broadcast(self, broadcast_id: int):
        cached = self._broadcasts.get(broadcast_id)
        if cached is None:
            broadcast = await self._repo.broadcast(broadcast_id)
            assert broadcast is not None
            texts = await self._repo.broadcast_texts(broadcast_id)
            photo = None
            if broadcast.event_id is not None:
                event = await self._repo.get(broadcast.event_id)
                photo = event.photo_file_id if event else None
            cached = (broadcast, texts, photo)
            self._broadcasts[broadcast_id] = cached
        return cached

    async def _report(self, broadcast_id: int, final: bool = False) -> None:
        """Progress for the staff member who started it: sent / blocked / failed."""
        loop = asyncio.get_running_loop()
        if not final and loop.time() - self._last_progress.get(broadcast_id, 0) < PROGRESS_EVERY:
            return
        self._last_progress[broadcast_id] = loop.time()
        broadcast = await self._repo.broadcast(broadcast_id)
        if broadcast is None or broadcast.progress_chat_id is None:
            return
        progress = await self._repo.progress(broadcast_id)
        tr = self._i18n.translator(DEFAULT_LANGUAGE)
        text = (
            (("✅ " + tr._("Broadcast finished.")) if final else ("📣 " + tr._("Sending …")))
            + "\n"
            + tr._("%(sent)d of %(total)d sent · %(blocked)d blocked the bot · %(failed)d failed")
            % {
                "sent": progress.sent,
                "total": progress.total,
                "blocked": progress.blocked,
                "failed": progress.failed,
            }
        )
        try:
            await self._bot.edit_message_text(
                text, chat_id=broadcast.progress_chat_id, message_id=broadcast.progress_message_id
            )
        except TelegramError:
            logger.info("progress of broadcast %s not updated", broadcast_id)
