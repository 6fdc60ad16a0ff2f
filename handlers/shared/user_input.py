"""Ids, indexes and days from callback data and command arguments, which a modified client can
fill with anything: checked here once, so no handler meets a ValueError, OverflowError or
IndexError. And the command a text or caption starts with, however it was sent.

`str.isdigit()` is not enough: it accepts "²" and "①", which `int()` refuses, and `int()` accepts
"٣" and "１", which no button of ours carries. Ids end up in SQLite, whose integers stop at 2**63.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime

from telegram import Message

# SQLite's INTEGER is signed 64-bit; a larger Python int makes the query raise OverflowError.
_ID_LIMIT = 2**63
# The digits of 2**63 - 1: longer strings are refused before int() has to read them.
_MAX_DIGITS = len(str(_ID_LIMIT - 1))


def _ascii_number(text: str) -> int | None:
    if not (text.isascii() and text.isdecimal()) or len(text) > _MAX_DIGITS:
        return None
    return int(text)


def parse_id(text: str) -> int | None:
    """A database id (1 … 2**63 - 1) written in ASCII digits; None for anything else."""
    value = _ascii_number(text)
    return value if value is not None and 0 < value < _ID_LIMIT else None


def parse_index(text: str, size: int) -> int | None:
    """An index into a sequence of `size` items, written in ASCII digits; None otherwise."""
    value = _ascii_number(text)
    return value if value is not None and value < size else None


def inside_calendar(day: date) -> bool:
    """False for the first and last year Python knows: a day's window in UTC (or a slot's end)
    would step outside them and raise OverflowError."""
    return MINYEAR < day.year < MAXYEAR


def parse_moment(text: str, pattern: str) -> datetime | None:
    """A day or time as our buttons write it (`pattern` for strptime), naive; None otherwise."""
    try:
        moment = datetime.strptime(text, pattern)
    except ValueError:
        return None
    return moment if inside_calendar(moment) else None


# Spaces and invisible marks a client may put in front of a command.
LEADING = " \t\r\n\u00a0\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


@dataclass(frozen=True)
class TypedCommand:
    """A command as written in a text or a caption, whether Telegram marked it as one or not."""

    name: str  # lower case, without "/" and "@bot"; may be "" for a lone "/"
    addressee: str | None  # the bot named after "@", if any
    args: list[str]


def typed_command(message: Message) -> TypedCommand | None:
    """The command a text or caption starts with (a "/" first, after invisible characters), in
    every form staff may send it: typed, marked or not by the client, or as the caption of a
    photo or document. None when it does not start with "/"."""
    written = (message.text if message.text is not None else message.caption) or ""
    written = written.lstrip(LEADING)
    if not written.startswith("/"):
        return None
    head, *args = written.split()
    name, _, addressee = head[1:].partition("@")
    return TypedCommand(name.lower(), addressee or None, args)
