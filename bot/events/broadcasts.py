"""Broadcasts on the one durable path: each recipient's message rendered when it is sent, and
the staff member who started it kept informed.

A broadcast is one row per recipient in `outgoing` (written with it, bot/events/repository.py);
the courier sends them at THINKA_BROADCAST_RATE behind everything more urgent. Each row is marked
'sending' only when its request gets one of the courier's 8 places for broadcasts, just before
it leaves, so after a kill at most those 8 are uncertain. The progress message counts sent /
blocked / failed / uncertain exactly; once nothing is waiting, it offers "send again to these
N" for the uncertain ones (Telegram never confirmed them: they may have arrived; a second copy
is the staff member's choice).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import DEFAULT_LANGUAGE, STAFF_LANGUAGE, I18n
from bot.core.outgoing import Content, Outgoing, Photo, Progress, Text, buttons
from bot.events.repository import Broadcast, EventRepository

logger = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
PROGRESS_EVERY = 2.0  # seconds between progress edits for staff


class Broadcasts:
    def __init__(
        self,
        bot: Bot,
        repository: EventRepository,
        outgoing: Outgoing,
        clock: Clock,
        i18n: I18n,
        *,
        on_queue: Callable[[], None] = lambda: None,
    ) -> None:
        self._bot = bot  # for editing the progress message in place
        self._repo = repository
        self._outgoing = outgoing
        self._clock = clock
        self._i18n = i18n
        self._on_queue = on_queue
        self._last_progress: dict[int, float] = {}
        self._final_shown: set[int] = set()
        self._cache: dict[int, tuple[Broadcast, dict[str, str], str | None]] = {}
        self._lock = asyncio.Lock()

    # -- each recipient's message (the courier's renderer "broadcast") ----------------------
    async def render(self, args: Mapping) -> Content | None:
        broadcast, texts, photo = await self._broadcast(args["broadcast"])
        language = args.get("language") or DEFAULT_LANGUAGE
        text = texts.get(language) or texts[DEFAULT_LANGUAGE]
        markup = ()
        if broadcast.kind in ("event", "update") and broadcast.event_id is not None:
            tr = self._i18n.translator(language)
            markup = buttons(
                [[(tr._("🙋 I'm coming"), callbacks.EVENTS("rsvp", broadcast.event_id))]]
            )
        if photo and broadcast.kind == "event" and len(text) <= CAPTION_LIMIT:
            return Photo(photo, text, markup)
        return Text(text, markup)

    async def _broadcast(self, broadcast_id: int):
        cached = self._cache.get(broadcast_id)
        if cached is None:
            broadcast = await self._repo.broadcast(broadcast_id)
            assert broadcast is not None
            texts = await self._repo.broadcast_texts(broadcast_id)
            photo = None
            if broadcast.event_id is not None:
                event = await self._repo.get(broadcast.event_id)
                photo = event.photo_file_id if event else None
            cached = (broadcast, texts, photo)
            self._cache[broadcast_id] = cached
        return cached

    # -- progress for staff (the courier tells which broadcasts moved on) -------------------
    async def moved(self, broadcast_ids: set[int]) -> None:
        async with self._lock:  # one edit at a time, in order
            for broadcast_id in sorted(broadcast_ids):
                await self._progress(broadcast_id)

    async def catch_up(self) -> None:
        """At start-up: broadcasts a previous run left unfinished show where they stand."""
        await self.moved(set(await self._repo.sending_broadcasts()))

    async def _progress(self, broadcast_id: int) -> None:
        loop = asyncio.get_running_loop()
        recent = loop.time() - self._last_progress.get(broadcast_id, 0) < PROGRESS_EVERY
        if recent and await self._outgoing.waiting(broadcast_id):
            return  # shown a moment ago, and not finished: no count needed yet
        progress = await self._repo.progress(broadcast_id)
        final = progress.settled
        if final and broadcast_id in self._final_shown:
            return
        if final and await self._repo.finish(broadcast_id, self._clock.now()):
            self._cache.pop(broadcast_id, None)
            logger.info(
                "broadcast %s finished: %d sent, %d blocked, %d failed, %d uncertain",
                broadcast_id,
                progress.sent,
                progress.blocked,
                progress.failed,
                progress.uncertain,
            )
        elif not final and loop.time() - self._last_progress.get(broadcast_id, 0) < PROGRESS_EVERY:
            return
        self._last_progress[broadcast_id] = loop.time()
        if await self._show(broadcast_id, progress, final) and final:
            self._final_shown.add(broadcast_id)

    async def _show(self, broadcast_id: int, progress: Progress, final: bool) -> bool:
        """Edit the staff member's progress message; False when there is none (yet)."""
        broadcast = await self._repo.broadcast(broadcast_id)
        if broadcast is None or broadcast.progress_chat_id is None:
            return False
        tr = self._i18n.translator(STAFF_LANGUAGE)
        lines = [
            (("✅ " + tr._("Broadcast finished.")) if final else ("📣 " + tr._("Sending …"))),
            tr._(
                "%(sent)d of %(total)d sent · %(blocked)d blocked the bot · %(failed)d failed"
                " · %(uncertain)d uncertain"
            )
            % {
                "sent": progress.sent,
                "total": progress.total,
                "blocked": progress.blocked,
                "failed": progress.failed,
                "uncertain": progress.uncertain,
            },
        ]
        markup = None
        if final and progress.uncertain:
            lines.append(
                "⚠️ "
                + tr.ngettext(
                    "%(count)d message is uncertain: it was on its way when the connection broke"
                    " off (or the bot stopped), and Telegram never confirmed it. It may or may not"
                    " have arrived.",
                    "%(count)d messages are uncertain: they were on their way when the connection"
                    " broke off (or the bot stopped), and Telegram never confirmed them. They may"
                    " or may not have arrived.",
                    progress.uncertain,
                )
                % {"count": progress.uncertain}
            )
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr.ngettext(
                                "🔁 Send again to %(count)d recipient",
                                "🔁 Send again to these %(count)d recipients",
                                progress.uncertain,
                            )
                            % {"count": progress.uncertain},
                            callback_data=callbacks.OUTGOING("batch", broadcast_id),
                        )
                    ]
                ]
            )
        try:
            await self._bot.edit_message_text(
                "\n".join(lines),
                chat_id=broadcast.progress_chat_id,
                message_id=broadcast.progress_message_id,
                reply_markup=markup,
            )
        except TelegramError:
            logger.info("progress of broadcast %s not updated", broadcast_id)
        return True

    # -- staff decide about the uncertain ones --------------------------------------------
    async def send_again(self, broadcast_id: int) -> int:
        """The uncertain messages of a broadcast go out again; returns how many."""
        ids = await self._outgoing.uncertain_in_batch(broadcast_id)
        again = await self._outgoing.send_again(ids, self._clock.now())
        if again:
            await self._repo.reopen(broadcast_id)
            self._last_progress.pop(broadcast_id, None)
            self._final_shown.discard(broadcast_id)
            logger.info("broadcast %s: %d uncertain messages sent again", broadcast_id, len(again))
            self._on_queue()
        return len(again)
