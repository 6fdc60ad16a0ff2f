"""Logging without content: what a log line may say about a person, and how the libraries'
loggers are kept from saying more.

Two rules, at every level, DEBUG included:

- Our own log lines (`bot.*`, `handlers.*`) name residents only by `person(user_id)`, a
  pseudonym that is stable while the process runs and cannot be turned back into the Telegram id
  (the key is random per process and never stored): a log read after a resident erased their data
  leads to nobody. Texts, names and usernames are never logged.
- Every other logger (python-telegram-bot, httpx, aiosqlite, APScheduler …) logs whatever it
  holds: python-telegram-bot's DEBUG lines carry every request and answer, its CRITICAL line on an
  update it cannot build dumps the whole update, httpx names the token in URLs. `ContentGuard`
  drops their records below WARNING, and `GuardedFormatter` keeps only the fixed wording of the
  rest: arguments are replaced by "…", an exception keeps its type and traceback, not its message.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import sys
import traceback
from typing import TextIO

# Loggers whose lines we write ourselves and keep to the rules above.
OWN_LOGGERS = ("bot", "handlers", "__main__")
WITHHELD = "…"
_PROCESS_KEY = secrets.token_bytes(32)


def person(user_id: int | None) -> str:
    """How a log line names a resident (or anybody whose Telegram id it would otherwise show)."""
    if user_id is None:
        return "p-none"
    digest = hmac.new(_PROCESS_KEY, str(user_id).encode(), hashlib.sha256).hexdigest()
    return "p-" + digest[:10]


def _own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS)


class ContentGuard(logging.Filter):
    """On a handler: other libraries' records below WARNING are dropped (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _own(record.name) or record.levelno >= logging.WARNING


class GuardedFormatter(logging.Formatter):
    """Formats other libraries' records without their arguments and exception messages; works on
    a copy, so other handlers (a test's capture) still see the record as it was."""

    def format(self, record: logging.LogRecord) -> str:
        if _own(record.name):
            return super().format(record)
        record = logging.makeLogRecord(record.__dict__)
        if record.args:
            count = len(record.args) if isinstance(record.args, tuple) else 1
            try:
                record.msg = str(record.msg) % ((WITHHELD,) * count)
            except (TypeError, ValueError, KeyError):
                record.msg = f"{record.msg} (details withheld)"
            record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, tb = record.exc_info
            record.exc_text = (
                "Traceback (most recent call last):\n"
                + "".join(traceback.format_tb(tb))
                + f"{kind.__module__}.{kind.__qualname__} (message withheld)"
            )
            record.exc_info = None
        return super().format(record)


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def guarded_handler(stream: TextIO) -> logging.Handler:
    """A handler writing to `stream` with both guards: the bot's own, and the tests' capture."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(GuardedFormatter(FORMAT))
    handler.addFilter(ContentGuard())
    return handler


def configure_logging(level: str | int, stream: TextIO | None = None) -> logging.Handler:
    """The process's logging: one guarded handler on the root logger; returns the handler."""
    handler = guarded_handler(stream or sys.stderr)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # An exception nothing caught would be printed by Python itself, message and all: it goes
    # through the guarded handler instead (as a line of no library of ours: message withheld).
    sys.excepthook = _log_uncaught
    return handler


def _log_uncaught(kind, value, tb) -> None:
    logging.getLogger("uncaught").critical("the process ends", exc_info=(kind, value, tb))
