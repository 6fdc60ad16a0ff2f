"""What reading a letter gives: the result (`LetterReading`), why a page was not read
(`Failure`), and the limits. Plain data, shared by the bot's process, the reading process
(bot/letters/reader.py) and the engine (bot/letters/engine.py).

The recognised text is the resident's content: it is kept in `LetterReading.text` (left out of
repr and of `as_dict`) and never logged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from bot.letters.extract import Deadline, Reference, SenderKind

Page = bytes | str | os.PathLike[str]


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024  # what the Bot API lets a bot download
    max_pixels: int = 50_000_000  # a 48 MP phone photo; more is a decompression bomb
    max_pages: int = 10  # all files together
    page_timeout_s: float = 20.0


class Failure(StrEnum):
    OCR_OFF = "ocr_off"  # THINKA_OCR=off and the page is an image
    TOO_LARGE = "too_large"
    TOO_MANY_PAGES = "too_many_pages"
    NOT_A_DOCUMENT = "not_a_document"  # neither an image nor a readable PDF
    TIMEOUT = "timeout"
    NO_TEXT = "no_text"  # read, but nothing that looks like text came out
    ENGINE_MISSING = "engine_missing"  # tesserocr or the German model is not installed
    BUSY = "busy"  # too many letters waiting already
    ERROR = "error"  # an unexpected fault of the engine (logged with its type)

    @property
    def bad_file(self) -> bool:
        """The file itself is the problem (as opposed to the engine or the time)."""
        return self in {Failure.TOO_LARGE, Failure.TOO_MANY_PAGES, Failure.NOT_A_DOCUMENT}


@dataclass(frozen=True)
class PageFailure:
    file: int  # 1-based position in the files given
    page: int  # 1-based page within that file (0: the whole file)
    reason: Failure


@dataclass(frozen=True)
class LetterReading:
    pages_read: int
    failures: tuple[PageFailure, ...]
    sender: SenderKind
    letter_date: date | None
    reference: Reference | None
    amount: Decimal | None
    deadlines: tuple[Deadline, ...]
    text: str = field(default="", repr=False)  # content: never log it

    @property
    def read(self) -> bool:
        return self.pages_read > 0

    @classmethod
    def not_read(cls, failures: Sequence[PageFailure]) -> LetterReading:
        return cls(0, tuple(failures), SenderKind.SONSTIGE, None, None, None, ())

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as YYYY-MM-DD, the amount as a decimal string. Without the full
        text, but the wording, sentences and numbers are the resident's data all the same:
        show them to staff, store them like message content, never log them."""
        return {
            "read": self.read,
            "pages_read": self.pages_read,
            "failures": [
                {"file": f.file, "page": f.page, "reason": str(f.reason)} for f in self.failures
            ],
            "sender": {"kind": str(self.sender), "label": self.sender.label},
            "letter_date": self.letter_date.isoformat() if self.letter_date else None,
            "reference": (
                {"label": self.reference.label, "value": self.reference.value}
                if self.reference
                else None
            ),
            "amount": (
                {"value": str(self.amount), "currency": "EUR"} if self.amount is not None else None
            ),
            "deadlines": [
                {
                    "wording": d.wording,
                    "date": d.due.isoformat() if d.due else None,
                    "certain": d.certain,
                    "basis": str(d.basis),
                    "sentence": d.sentence,
                }
                for d in self.deadlines
            ],
        }
