"""Faults of the network between the bot and the Bot API, switchable in tests: slow answers,
answers that never come (the client's timeout), connections closed without an answer, and
updates that python-telegram-bot cannot read.

A mixin of BotApiSandbox (server.py); `fail_next` and `chaos` there cover Telegram's own error
answers (5xx, 429 with retry_after, 403). What the Bot API documents and this keeps to:
- getUpdates: "An update is considered confirmed as soon as getUpdates is called with an offset
  higher than its update_id", whether or not the answer reaches the bot; an answer lost on the
  way is simply fetched again with the same offset.
- A flood wait is a 429 whose parameters carry retry_after (`flood_next`).
- Updates follow the Bot API version of the server; a server on another version sends fields a
  client does not know, or lacks fields it requires (`send_poll_answer(..., api_9_6=False)`: a
  poll_answer without option_persistent_ids, required since Bot API 9.6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .common import _Params
from .models import ApiError, SandboxUser


class IncomingFaults:
    # -- switches ---------------------------------------------------------------------------------
    def stall_next(
        self,
        method: str,
        seconds: float,
        *,
        times: int = 1,
        where: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` calls of `method` (those whose parameters include `where`, e.g.
        {"user_id": 42}) are answered only after `seconds`. A client whose timeout is shorter
        gives up first; the call is then never carried out."""
        queue = self._network_faults_for(method)
        queue.extend([("stall", seconds, where or {})] * times)

    def reset_next(
        self,
        method: str,
        *,
        times: int = 1,
        carried_out: bool = False,
        where: dict[str, Any] | None = None,
    ) -> None:
        """The next `times` calls of `method` get no answer: the connection is closed. With
        `carried_out` the call took effect first (a getUpdates confirmed its offset, a message
        was sent) and only the answer is lost."""
        queue = self._network_faults_for(method)
        queue.extend([("reset-after" if carried_out else "reset", 0.0, where or {})] * times)

    def flood_next(self, method: str, retry_after: int, *, times: int = 1) -> None:
        """The next `times` calls of `method` are refused with Telegram's flood wait."""
        self.fail_next(  # type: ignore[attr-defined]
            method,
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            times=times,
        )

    def set_latency(self, seconds: float) -> None:
        """Every call but getUpdates takes `seconds`, half before it is carried out and half
        before its answer is back, as a real round trip to Telegram does (tens of milliseconds):
        work that waits on the API piles up as it would in production instead of finishing at
        loopback speed, and a kill meets requests on either side of being carried out."""
        self._latency = seconds

    def send_poll_answer(
        self, user: SandboxUser | int, poll_id: str, option_ids: list[int], *, api_9_6: bool = True
    ) -> int | None:
        """A user's vote in a non-anonymous poll. `api_9_6=False`: as a server on an older Bot
        API sends it, without option_persistent_ids (which python-telegram-bot 22 requires)."""
        u = self._user(user)  # type: ignore[attr-defined]
        answer: dict[str, Any] = {"poll_id": poll_id, "user": u.to_dict(), "option_ids": option_ids}
        if api_9_6:
            answer["option_persistent_ids"] = [str(i) for i in option_ids]
        return self.inject("poll_answer", answer)  # type: ignore[attr-defined]

    # -- inside -----------------------------------------------------------------------------------
    def _network_faults_for(self, method: str) -> list[tuple[str, float, dict[str, Any]]]:
        faults: dict[str, list[tuple[str, float, dict[str, Any]]]] = self.__dict__.setdefault(
            "_network_faults", {}
        )
        return faults.setdefault(method.lower(), [])

    async def _network(
        self,
        name: str,
        request: web.Request,
        call: Callable[[_Params], Awaitable[Any]],
        params: _Params,
    ) -> bool:
        """Before a call is carried out: latency, a stall, a closed connection. True when the
        connection was closed (there is no answer to give)."""
        if name == "getUpdates":
            # When each long poll arrived (loop time): tests check the bot's back-off with it.
            self.__dict__.setdefault("poll_times", []).append(asyncio.get_running_loop().time())
        latency = getattr(self, "_latency", 0.0)
        if latency and name != "getUpdates":
            await asyncio.sleep(latency / 2)  # the rest: SendFaults._latency_after
        queue = self.__dict__.get("_network_faults", {}).get(name.lower())
        if not queue:
            return False
        given = params.normalized()
        fault = next((f for f in queue if all(given.get(k) == v for k, v in f[2].items())), None)
        if fault is None:
            return False
        queue.remove(fault)
        kind, seconds, _ = fault
        if kind == "stall":
            await asyncio.sleep(seconds)
            return False
        if kind == "reset-after":
            fetched = self._max_fetched_update_id  # type: ignore[attr-defined]
            await call(params)
            self._max_fetched_update_id = fetched  # what the bot never received
        if request.transport is not None:
            request.transport.close()
        return True


def connection_closed() -> ApiError:
    """What _handle_api raises after a reset: no answer can be written any more."""
    return ApiError(504, "connection closed")
