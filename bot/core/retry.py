"""What a failed Telegram call means for the message: wait and send again, give up, or admit
that nobody knows whether it arrived.

python-telegram-bot turns every failure into a TelegramError; what matters for a message is
whether the request was carried out:
- Telegram answered with an error status (5xx, 429, 400, 403): it was not carried out.
- No connection could be made (refused, connect timeout, no free connection in the pool), or the
  request could not be written out: it never reached Telegram.
- The request left and no answer came back (read timeout, connection dropped mid-answer): it may
  have been carried out. Such an outcome is UNCERTAIN: sending again could make a second copy.
"""

from __future__ import annotations

import enum
from datetime import timedelta

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)


class Outcome(enum.Enum):
    FLOOD = "flood"  # 429: wait the time Telegram names, then send again
    RETRY = "retry"  # not carried out: send again after a back-off
    UNCERTAIN = "uncertain"  # may have been carried out: do not send again by itself
    BLOCKED = "blocked"  # 403: the user blocked the bot, or the bot is out of the group
    REFUSED = "refused"  # 400 and the like: this request will not work as it is


# The request never reached Telegram (or could not have been read by it).
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.UnsupportedProtocol,
)


def classify(error: TelegramError) -> Outcome:
    if isinstance(error, RetryAfter):
        return Outcome.FLOOD
    if isinstance(error, Forbidden):
        return Outcome.BLOCKED
    if isinstance(error, BadRequest | ChatMigrated):  # BadRequest is a NetworkError subclass
        return Outcome.REFUSED
    if isinstance(error, NetworkError):
        cause = error.__cause__
        if cause is None:
            return Outcome.RETRY  # Telegram answered, with 5xx: nothing was done
        if isinstance(cause, _NOT_SENT):
            return Outcome.RETRY
        return Outcome.UNCERTAIN  # read timeout, connection dropped before the answer
    return Outcome.REFUSED  # InvalidToken, Conflict, …: sending again does not help


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram names in a 429, in seconds, whichever way python-telegram-bot
    reports it."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def backoff(attempts: int, *, first: float = 1.0, most: float = 300.0) -> float:
    """Seconds before the next try after `attempts` failed ones: 1, 2, 4 … at most 5 minutes."""
    return min(first * 2 ** max(0, attempts - 1), most)
