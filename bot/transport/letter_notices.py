"""The Telegram side of reading letters (bot/letters/service.py): pages downloaded through the
Bot API, and the feature's messages to staff and residents.

`BotLetterNotices` sends straight through the Bot API for now. It is the one place to move onto
the durable outgoing path (stored, retried, marked when delivered) once that exists: the letter
feature only knows the `LetterNotices` protocol.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.cases.repository import Case
from bot.letters.reading import Failure, Limits
from bot.letters.service import PageRefused, PageUnavailable

logger = logging.getLogger(__name__)


class TelegramPages:
    """getFile, then the file URL: what a bot may download (at most 20 MB, the Bot API's limit
    for getFile, which refuses bigger files with "file is too big")."""

    def __init__(self, bot: Bot, max_bytes: int = Limits().max_file_bytes) -> None:
        self._bot = bot
        self._max_bytes = max_bytes

    async def fetch(self, file_id: str) -> bytes:
        try:
            file = await self._bot.get_file(file_id)
            if file.file_size is not None and file.file_size > self._max_bytes:
                raise PageRefused(Failure.TOO_LARGE)
            return bytes(await file.download_as_bytearray())
        except (RetryAfter, NetworkError) as error:  # TimedOut is a NetworkError too
            raise PageUnavailable(type(error).__name__) from error
        except BadRequest as error:
            too_big = "too big" in error.message.lower()
            raise PageRefused(Failure.TOO_LARGE if too_big else Failure.NOT_A_DOCUMENT) from error
        except TelegramError as error:  # e.g. the file link expired between getFile and GET
            raise PageUnavailable(type(error).__name__) from error


class BotLetterNotices:
    """LetterNotices through bot.send_message: into the case's topic in the staff group (or,
    without one, to each admin in private), and to the resident."""

    def __init__(self, bot: Bot, staff_chat_id: int | None, admin_ids: frozenset[int]) -> None:
        self._bot = bot
        self._staff_chat_id = staff_chat_id
        self._admin_ids = admin_ids

    async def to_staff_topic(
        self, case: Case, html: str, markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        if self._staff_chat_id is not None:
            if case.thread_id is None:
                return False  # the topic comes first (the relay opens it)
            targets = [(self._staff_chat_id, case.thread_id, html)]
        else:
            targets = [(admin, None, f"#{case.id} · {html}") for admin in sorted(self._admin_ids)]
        delivered = False
        for chat_id, thread_id, text in targets:
            delivered |= await self._send(
                chat_id, text, markup, thread_id=thread_id, what=f"case {case.id} staff"
            )
        return delivered

    async def to_resident(
        self, case: Case, html: str, markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        if case.resident_chat_id is None:
            return False
        return await self._send(
            case.resident_chat_id, html, markup, what=f"case {case.id} resident"
        )

    async def _send(
        self,
        chat_id: int,
        html: str,
        markup: InlineKeyboardMarkup | None,
        *,
        thread_id: int | None = None,
        what: str,
    ) -> bool:
        try:
            await self._bot.send_message(
                chat_id,
                html,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                message_thread_id=thread_id,
                disable_web_page_preview=True,
            )
        except TelegramError as error:
            logger.warning("letter notice for %s not sent: %s", what, type(error).__name__)
            return False
        return True
