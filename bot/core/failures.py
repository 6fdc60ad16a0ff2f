"""What kind of failure an exception is: worth trying again, the database's storage, or a bug.

The update processor (bot/transport/update_processor.py) asks this about every handler failure:
a transient one is retried after a pause, a storage problem waits until the database can be
written again, anything else is a bug and the update is parked at once (retrying a bug only
repeats it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

# SQLite result codes (the primary code, the low byte) that mean "the file cannot be written
# now", not "this statement is wrong": disk or quota full, a read-only file or directory, another
# connection holding the write lock, the disk failing.
_STORAGE_CODES = {
    sqlite3.SQLITE_FULL: "full",
    sqlite3.SQLITE_READONLY: "read-only",
    sqlite3.SQLITE_BUSY: "locked",
    sqlite3.SQLITE_LOCKED: "locked",
    sqlite3.SQLITE_IOERR: "I/O error",
    sqlite3.SQLITE_CANTOPEN: "cannot be opened",
}


class TemporarilyUnavailable(Exception):
    """Raised where a service the bot depends on cannot answer right now (e.g. Telegram cannot be
    asked whether somebody is staff). Subclass it, and the update is tried again later."""


class IntakeFailed(Exception):
    """Receiving or feeding updates died of an unexpected error (bot/transport/intake.py): the
    process exits non-zero so that its supervisor (docker, systemd) starts it again."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what it was raised from or while handling (a few links at most)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 5:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def storage_problem(error: BaseException) -> str | None:
    """'full', 'read-only', 'locked', … when the database could not be written; else None."""
    for link in _chain(error):
        code = getattr(link, "sqlite_errorcode", None) if isinstance(link, sqlite3.Error) else None
        if code is not None and code & 0xFF in _STORAGE_CODES:
            return _STORAGE_CODES[code & 0xFF]
    return None


def is_transient(error: BaseException) -> bool:
    """True when the same work may well succeed in a moment: Telegram's 5xx, timeouts and
    connection errors, a 429, or a TemporarilyUnavailable service (also when one of them is
    the cause of `error`, e.g. a lookup that failed on a timeout and raised its own error)."""
    for link in _chain(error):
        if isinstance(link, BadRequest | Forbidden):
            return False  # our request was wrong, or the person blocked the bot: not a pause
        if isinstance(link, NetworkError | RetryAfter | TemporarilyUnavailable):
            return True
    return False
