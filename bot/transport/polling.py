"""Long polling that stores before it confirms, and reads nothing it has not stored.

Telegram forgets an update once getUpdates is called with an offset above its update_id. So the
offset moves on only after the batch is in the inbox (bot/transport/inbox.py); a kill -9 at any
moment leaves every unhandled update either in the inbox or still at Telegram.

The updates are fetched raw: python-telegram-bot's `Bot.get_updates` turns the whole batch into
objects at once, and one update it cannot read (say a poll_answer from another Bot API version)
raises for all of them, again after every restart, and its CRITICAL log line dumps the batch,
texts and names included. Here getUpdates goes through python-telegram-bot's HTTP layer (its
error mapping: 429, 409, 401, 5xx, timeouts) but each update is kept as the JSON text Telegram
sent; bot/transport/intake.py stores it and only then reads it, one update at a time.

Backpressure: the poller asks the intake how many updates it may fetch and waits while the
backlog in the inbox is too long. If the poller dies of an unexpected error, `failed` is set and
the process exits non-zero (bot/app.py), so that its supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest, RequestData
from telegram.request._requestparameter import RequestParameter  # no public way to build one

from bot.core.retry import retry_after_seconds
from bot.transport.inbox import Received
from bot.transport.intake import Intake, describe_failure

logger = logging.getLogger(__name__)

# After a failed getUpdates: wait FIRST_BACKOFF, doubling up to MAX_BACKOFF (tests shorten both).
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# How long past the long poll's own timeout an answer may take before it counts as lost.
READ_GRACE = 10.0
BATCH = 100  # the most getUpdates returns at once
# Turns of the event loop the poller yields after handing over a batch: one for the fetcher to
# take the updates, one for their handlers to start, one to spare.
HANDOVER_TURNS = 3

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def split_answer(text: str) -> dict[str, Any]:
    """Telegram's answer `{"ok": true, "result": [...]}` decoded, with each element of the
    result array as (its JSON text exactly as sent, its decoded value). Raises ValueError on
    anything that is not a JSON object."""

    def space(at: int) -> int:
        return _SPACE.match(text, at).end()  # type: ignore[union-attr]

    def expect(at: int, char: str) -> int:
        if text[at : at + 1] != char:
            raise ValueError(f"{char!r} expected at {at}")
        return at + 1

    pos = expect(space(0), "{")
    answer: dict[str, Any] = {}
    pos = space(pos)
    while text[pos : pos + 1] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        pos = space(expect(space(pos), ":"))
        if key == "result" and text[pos : pos + 1] == "[":
            items = []
            pos = space(pos + 1)
            while text[pos : pos + 1] != "]":
                start = pos
                value, pos = _DECODER.raw_decode(text, pos)
                items.append((text[start:pos], value))
                pos = space(pos)
                if text[pos : pos + 1] == ",":
                    pos = space(pos + 1)
            pos += 1
            answer[key] = items
        else:
            answer[key], pos = _DECODER.raw_decode(text, pos)
        pos = space(pos)
        if text[pos : pos + 1] == ",":
            pos = space(pos + 1)
    if space(pos + 1) != len(text):
        raise ValueError("text after the answer")
    return answer


class RawUpdatesRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client for getUpdates, answering each update as raw text
    (`parse_json_payload` is the hook the library offers for reading answers differently)."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        try:
            return split_answer(payload.decode("utf-8", "replace"))
        except (ValueError, IndexError) as error:
            raise TelegramError("Invalid server response") from error


class Poller:
    def __init__(
        self,
        bot: Bot,
        intake: Intake,
        *,
        timeout: int = 50,
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
        read_grace: float = READ_GRACE,
    ) -> None:
        self._bot = bot
        self._intake = intake
        self._timeout = timeout
        self._read_grace = read_grace
        self._allowed = list(allowed_updates)
        self._request = RawUpdatesRequest(connection_pool_size=1)
        self._offset = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Why polling gave up (a revoked token, an unexpected error); `failed` is set then, so
        # the process stops instead of running on without updates.
        self.fatal: BaseException | None = None
        self.failed = asyncio.Event()
        self._idle = asyncio.Event()  # no fetched batch on its way into the inbox
        self._idle.set()

    async def start(self) -> None:
        await self._request.initialize()
        # A webhook left over from webhook mode would make every getUpdates a 409.
        await self._bot.delete_webhook(drop_pending_updates=False)
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        """Stop fetching; what was fetched is stored already. A short last call confirms the
        last batch, so Telegram does not send it again at the next start."""
        self._stopping = True
        if self._task is not None:
            # Waiting for Telegram, for room in the inbox or out a back-off: stop at once. A batch
            # on its way into the inbox is stored first (the loop ends after it).
            if self._idle.is_set():
                self._task.cancel()
            await asyncio.wait([self._task])  # its end, without swallowing our own cancellation
        if self._offset and self.fatal is None:
            with contextlib.suppress(TelegramError):
                # Short: a SIGTERM must end within seconds even when Telegram does not answer.
                await self._get_updates(limit=1, poll=0, read_timeout=2.0)
        await self._request.shutdown()

    async def settled(self) -> None:
        """Return once no fetched batch is between Telegram and the inbox (tests)."""
        await self._idle.wait()

    async def _get_updates(
        self, *, limit: int, poll: int, read_timeout: float | None = None
    ) -> list[tuple[str, Any]]:
        params = {
            "offset": self._offset,
            "limit": limit,
            "timeout": poll,
            "allowed_updates": self._allowed,
        }
        data = RequestData([RequestParameter.from_input(k, v) for k, v in params.items()])
        result = await self._request.post(
            url=f"{self._bot.base_url}/getUpdates",
            request_data=data,
            read_timeout=read_timeout or poll + self._read_grace,
        )
        if not isinstance(result, list):
            raise TelegramError("Invalid server response")
        return result  # type: ignore[return-value]

    async def _run(self) -> None:
        try:
            await self._poll()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        except Exception as error:
            self.fatal = describe_failure("receiving updates", error)
            self.failed.set()

    async def _poll(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping:
            limit = min(BATCH, await self._intake.room())
            try:
                items = await self._get_updates(limit=limit, poll=self._timeout)
            except InvalidToken as error:
                logger.error("Telegram refuses the bot token (%s): the bot stops", error.message)
                self.fatal = error
                self.failed.set()
                return
            except RetryAfter as error:
                wait = retry_after_seconds(error)
                logger.warning("getUpdates: flood control, next try in %.0f s", wait)
                await asyncio.sleep(wait)
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
            if not items:
                backoff = FIRST_BACKOFF
                continue
            self._idle.clear()
            try:
                stored = await self._hand_over(items)
            finally:
                self._idle.set()
            if stored:
                backoff = FIRST_BACKOFF
                # Handle what came before asking for more: python-telegram-bot's fetcher takes
                # the updates from its queue and starts their handlers over the next turns of
                # the loop; building the next request first (most of a millisecond) would
                # delay every answer by that much.
                for _ in range(HANDOVER_TURNS):
                    await asyncio.sleep(0)
            else:
                # The database cannot be written (intake.py has said so, once): nothing was
                # confirmed, Telegram sends the same batch again at the next call.
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF / 3)

    async def _hand_over(self, items: list[tuple[str, Any]]) -> bool:
        updates = []
        for raw, data in items:
            if isinstance(data, dict) and type(data.get("update_id")) is int:
                updates.append(Received(data["update_id"], raw, data))
            else:
                logger.warning("getUpdates returned an element without an update_id; skipped")
        if updates and not await self._intake.stored(updates):
            return False
        if updates:
            self._offset = updates[-1].update_id + 1
        return True
