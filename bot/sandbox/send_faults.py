"""The sandbox's outgoing side on a bad day: what Telegram does to a bot's *sends*.

A mixin of BotApiSandbox (server.py), each fault switchable from a test:
- `limit_groups(per_minute=20)`: Telegram's limit of 20 messages a minute per group ("your bot
  will not be able to send more than 20 messages per minute to the same group", Bot API FAQ):
  a send beyond it is answered 429 "Too Many Requests: retry after N" with
  `parameters.retry_after` N, the seconds until the oldest send leaves the minute.
- `start_outage(status=502)` … `end_outage()`: a window in which the send methods (send*,
  copy*, forward*, setMessageReaction, forum topics, edits) answer 502 Bad Gateway, as
  Telegram's front end does while the Bot API behind it is away; getUpdates (and the other
  reading methods) are not affected.
- `lose_next(method, mode="timeout")`: the request is carried out, but its answer never
  reaches the bot: the connection is held until the client's read timeout gives up
  ("timeout", the bot sees TimedOut), or dropped at once ("reset", the bot sees the server
  disconnecting without an answer). Either way the bot cannot tell done from not done.
- `reset_next(method)` (faults_incoming.py): the connection is dropped before the request is
  carried out (the bot sees the same as "reset" above: it cannot tell either).
- `delete_by_user(chat_id, message_id)`: a person deletes their own message (Telegram tells the
  bot nothing; copying it afterwards is refused "message to copy not found").
- `set_latency(seconds)` (faults_incoming.py): every call but getUpdates takes that long, half
  before Telegram carries it out and half before the answer is back, as over a real network (a
  kill in between meets a request under way, either side of being carried out).
"""

from __future__ import annotations

import asyncio
import collections
import math
from typing import Any

from aiohttp import web

from .common import MESSAGE_METHODS, _Params
from .models import ApiError

# What counts as a message for the per-group limit.
GROUP_LIMITED = MESSAGE_METHODS
# What an outage answers 5xx for: everything a bot sends, not the long poll.
SEND_METHODS = GROUP_LIMITED | frozenset(
    m.lower()
    for m in (
        "setMessageReaction",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    )
)


class SendFaults:
    def _init_send_faults(self) -> None:
        self._group_limit: int | None = None
        self._group_sends: dict[int, collections.deque[float]] = {}
        self._outage: tuple[frozenset[str], int, str] | None = None
        self._lost: dict[str, list[tuple[str, float, int | None]]] = {}
        self._latency = 0.0
        self.send_fault_counts: collections.Counter[str] = collections.Counter()

    # -- switches ------------------------------------------------------------------------------
    def limit_groups(self, per_minute: int | None = 20) -> None:
        """Telegram's per-group limit (None: off, the default of the sandbox)."""
        self._group_limit = per_minute
        self._group_sends.clear()

    def start_outage(
        self,
        *,
        status: int = 502,
        description: str = "Bad Gateway",
        methods: frozenset[str] | None = None,
    ) -> None:
        """From now on the send methods answer `status` (getUpdates keeps working)."""
        chosen = frozenset(m.lower() for m in methods) if methods is not None else SEND_METHODS
        self._outage = (chosen, status, description)

    def end_outage(self) -> None:
        self._outage = None

    def lose_next(
        self,
        method: str,
        *,
        times: int = 1,
        mode: str = "timeout",
        hold: float = 30.0,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, or to any chat) are carried out
        and their answers lost: held for `hold` seconds ("timeout": longer than a client
        waits) or dropped at once ("reset")."""
        if mode not in ("timeout", "reset"):
            raise ValueError("mode is 'timeout' or 'reset'")
        queue = self._lost.setdefault(method.lower(), [])
        for _ in range(times):
            queue.append((mode, hold, chat_id))

    def delete_by_user(self, chat_id: int, message_id: int) -> None:
        record = self._records[chat_id][message_id]
        if record.from_bot:
            raise ValueError("a person deletes their own messages here")
        record.deleted = True

    # -- applied by _handle_api ------------------------------------------------------------------
    async def _latency_after(self, name: str) -> None:
        """The second half of the round trip (the first: IncomingFaults._network)."""
        if self._latency and name != "getUpdates":
            await asyncio.sleep(self._latency / 2)

    async def _send_fault(
        self, name: str, params: _Params, request: web.Request, perform
    ) -> dict[str, Any] | None:
        """Apply a switched-on fault to this call: raise an ApiError, drop the connection, or
        return None to go on normally."""
        method = name.lower()
        if self._outage is not None and method in self._outage[0]:
            self.send_fault_counts["outage"] += 1
            raise ApiError(self._outage[1], self._outage[2])
        lost = self._lost.get(method, [])
        match = next(
            (f for f in lost if f[2] is None or str(f[2]) == str(params.raw.get("chat_id"))), None
        )
        if match is not None:
            lost.remove(match)
            mode, hold, _ = match
            self.send_fault_counts[f"lost-{mode}"] += 1
            self._check_group_rate(method, params)
            await perform(params)
            if mode == "timeout":
                await asyncio.sleep(hold)  # the client gives up first
            _drop(request)
            raise ApiError(504, "Gateway Timeout")  # never reaches the client
        return None

    def _check_group_rate(self, method: str, params: _Params) -> None:
        if self._group_limit is None or method not in GROUP_LIMITED:
            return
        try:
            chat_id = int(params.raw.get("chat_id"))
        except (TypeError, ValueError):
            return
        if chat_id >= 0:
            return  # private chats: not a group
        loop = asyncio.get_running_loop()
        now = loop.time()
        window = self._group_sends.setdefault(chat_id, collections.deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= self._group_limit:
            retry = max(1, math.ceil(60.0 - (now - window[0])))
            self.send_fault_counts["group-429"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        window.append(now)


def _drop(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()
