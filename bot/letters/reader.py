"""Read a letter: photos and PDFs in, checkable fields out.

`read_letter` does the work in the calling thread; `LetterReader.read` is the same behind an
await, in one worker thread of its own, so the bot's event loop never waits for Tesseract and
two letters are never read at once on a small machine. Neither raises for what a resident may
send: a file that is too big, not an image, locked, or takes too long becomes a failure in the
result ("not read"), never an exception.

The recognised text is the resident's content: it is kept in `LetterReading.text` (left out of
repr and of `as_dict`) and never logged; logs carry counts, reasons and timings only.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import os
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from bot.letters import extract, ocr
from bot.letters.extract import Deadline, Reference, SenderKind
from bot.letters.pdf import PdfUnreadable, TooManyPages, is_pdf, pdf_pages

logger = logging.getLogger(__name__)

try:  # HEIC/HEIF (iPhone photos sent as files) through Pillow's Image.open
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - a dependency; without it HEIC is "not_a_document"
    pass
else:
    register_heif_opener()

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


def read_letter(
    pages: Sequence[Page],
    *,
    received: date,
    limits: Limits = Limits(),
    ocr_on: bool = True,
    deskew: bool = True,
) -> LetterReading:
    """Read the files as the pages of one letter, in order (a PDF may hold several pages).
    `received` is the day the resident got the letter: deadlines counted from receipt start
    there."""
    started = time.monotonic()
    texts: list[str] = []
    failures: list[PageFailure] = []
    budget = limits.max_pages
    for file_no, source in enumerate(pages, start=1):
        for page_no, outcome in _read_file(source, limits, budget, ocr_on, deskew):
            if isinstance(outcome, Failure):
                failures.append(PageFailure(file_no, page_no, outcome))
            else:
                texts.append(outcome)
            budget -= 1 if page_no else 0
    if not texts:
        logger.info("letter not read: %s", ",".join(sorted({str(f.reason) for f in failures})))
        return LetterReading.not_read(failures)
    text = extract.clean("\n\n".join(texts))
    dated = extract.letter_date(text)
    reading = LetterReading(
        pages_read=len(texts),
        failures=tuple(failures),
        sender=extract.sender_kind(text),
        letter_date=dated,
        reference=extract.reference(text),
        amount=extract.amount_claimed(text),
        deadlines=tuple(extract.deadlines(text, received=received, dated=dated)),
        text=text,
    )
    logger.info(
        "letter read: %d pages, %d failed, %d deadlines, %.1f s",
        reading.pages_read,
        len(failures),
        len(reading.deadlines),
        time.monotonic() - started,
    )
    return reading


def _read_file(source: Page, limits: Limits, budget: int, ocr_on: bool, deskew: bool):
    """(page number, text or Failure) for each page of one file; page 0 is the whole file."""
    data = _load(source, limits)
    if isinstance(data, Failure):
        yield 0, data
        return
    if is_pdf(data):
        try:
            pdf = pdf_pages(data, max_pages=budget, max_pixels=limits.max_pixels)
        except TooManyPages:
            yield 0, Failure.TOO_MANY_PAGES
            return
        except PdfUnreadable:
            yield 0, Failure.NOT_A_DOCUMENT
            return
        for page_no, page in enumerate(pdf, start=1):
            if page.text is not None:
                yield page_no, page.text
            else:
                yield page_no, _ocr(page.image, limits, ocr_on, deskew)
        return
    if budget <= 0:
        yield 0, Failure.TOO_MANY_PAGES
        return
    image = _open_image(data, limits)
    if isinstance(image, Failure):
        yield 0, image
    else:
        yield 1, _ocr(image, limits, ocr_on, deskew)


def _load(source: Page, limits: Limits) -> bytes | Failure:
    if isinstance(source, bytes):
        return source if len(source) <= limits.max_file_bytes else Failure.TOO_LARGE
    try:
        path = Path(source)
        if path.stat().st_size > limits.max_file_bytes:
            return Failure.TOO_LARGE
        return path.read_bytes()
    except OSError:
        return Failure.NOT_A_DOCUMENT


def _open_image(data: bytes, limits: Limits) -> Image.Image | Failure:
    try:
        with warnings.catch_warnings():
            # Pillow warns (and over twice its limit raises) on huge images; ours is stricter.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        if image.width * image.height > limits.max_pixels:
            return Failure.TOO_LARGE
        image.load()
        return image
    except Image.DecompressionBombError:
        return Failure.TOO_LARGE
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return Failure.NOT_A_DOCUMENT


def _ocr(image: Image.Image | None, limits: Limits, ocr_on: bool, deskew: bool) -> str | Failure:
    if image is None:
        return Failure.NOT_A_DOCUMENT
    if not ocr_on:
        return Failure.OCR_OFF
    started = time.monotonic()
    try:
        prepared = ocr.prepare(image, deskew=deskew)
        remaining = limits.page_timeout_s - (time.monotonic() - started)
        if remaining <= 0:
            return Failure.TIMEOUT
        text = ocr.recognise(prepared, timeout_s=remaining)
    except ocr.OcrTimeout:
        return Failure.TIMEOUT
    except ocr.OcrUnavailable as exc:
        logger.error("OCR engine not available: %s", exc)
        return Failure.ENGINE_MISSING
    except Exception as exc:  # a fault of Pillow or Tesseract on one page must not end the rest
        logger.error("OCR of a page failed: %s", type(exc).__name__)
        return Failure.ERROR
    if sum(c.isalpha() for c in text) < 20:
        return Failure.NO_TEXT
    return text


class LetterReader:
    """The async front of `read_letter`: one worker thread, at most `max_waiting` letters
    queued, and a time limit per letter on top of the one per page."""

    def __init__(
        self,
        *,
        limits: Limits = Limits(),
        ocr_on: bool = True,
        max_waiting: int = 8,
        letter_timeout_s: float | None = None,
    ) -> None:
        self._limits = limits
        # Each page stops itself after page_timeout_s; this catches what would not.
        self._letter_timeout_s = letter_timeout_s or limits.page_timeout_s * limits.max_pages + 10
        self._ocr_on = ocr_on
        self._max_waiting = max_waiting
        self._waiting = 0
        self._turn = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="letters")

    async def read(self, pages: Sequence[Page], *, received: date) -> LetterReading:
        if self._waiting >= self._max_waiting:
            return LetterReading.not_read([PageFailure(0, 0, Failure.BUSY)])
        self._waiting += 1
        try:
            async with self._turn:
                job = functools.partial(
                    read_letter, pages, received=received, limits=self._limits, ocr_on=self._ocr_on
                )
                future = asyncio.get_running_loop().run_in_executor(self._executor, job)
                limit = self._letter_timeout_s
                try:
                    return await asyncio.wait_for(future, limit)
                except TimeoutError:
                    logger.error("letter reading exceeded %.0f s", limit)
                    return LetterReading.not_read([PageFailure(0, 0, Failure.TIMEOUT)])
                except Exception as exc:
                    logger.error("letter reading failed: %s", type(exc).__name__)
                    return LetterReading.not_read([PageFailure(0, 0, Failure.ERROR)])
        finally:
            self._waiting -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
