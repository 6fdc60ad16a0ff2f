"""Messages the bot sends about itself: to the admins (an update put aside, the database
unusable) and, in a storage outage, to the residents who wrote.

Sent directly with the bot, not through the database and the relay: the database may be what is
broken. Each admin alert is sent once per kind of trouble and COOLDOWN, so that a thousand
unreadable updates make one message, not a thousand (the inbox keeps count of them all).
Sending never holds up the caller: each message is its own task.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import TelegramError

from bot.core.logs import person

logger = logging.getLogger(__name__)

COOLDOWN = 3600.0  # seconds between two alerts about the same kind of trouble


class AdminAlerts:
    def __init__(self, bot: Bot, admin_ids: frozenset[int], *, cooldown: float = COOLDOWN) -> None:
        self._bot = bot
        self._admin_ids = admin_ids
        self._cooldown = cooldown
        self._last: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def alert(self, topic: str, text: str) -> bool:
        """Tell every admin, unless they were told about `topic` within the cooldown; True if
        sent. Without THINKA_ADMIN_IDS the log line of the caller is all there is."""
        now = asyncio.get_running_loop().time()
        last = self._last.get(topic)
        if last is not None and now - last < self._cooldown:
            return False
        self._last[topic] = now
        for admin in sorted(self._admin_ids):
            self.tell(admin, text)
        return bool(self._admin_ids)

    def tell(self, chat_id: int, text: str) -> None:
        task = asyncio.get_running_loop().create_task(self._send(chat_id, text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramError as error:
            logger.warning("notice to %s not sent: %s", person(chat_id), type(error).__name__)

    async def close(self, timeout: float = 3.0) -> None:  # noqa: ASYNC109
        """Give what is being sent a moment to arrive (at shutdown)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
