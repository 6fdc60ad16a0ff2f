"""The Telegram side of reading letters (bot/letters/service.py): pages downloaded through the
Bot API. (The feature's messages to staff and residents are envelopes on the one durable path:
bot/letters/envelopes.py.)
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

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
