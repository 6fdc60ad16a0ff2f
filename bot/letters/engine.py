"""The reading itself: files in, a LetterReading out, in the calling thread.

Pillow, Tesseract (through bot/letters/ocr.py) and PDFium (bot/letters/pdf.py) live here. The
bot runs this only in its reading process (`reader.LetterReader`), so its own process never
imports them; the command line (`read-letter`) and the benchmark call it directly.
"""

from __future__ import annotations

import io
import logging
import time
import warnings
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from bot.letters import extract, ocr
from bot.letters.pdf import PdfUnreadable, TooManyPages, is_pdf, pdf_pages
from bot.letters.reading import Failure, LetterReading, Limits, Page, PageFailure

logger = logging.getLogger(__name__)
LIMITS = Limits()

try:  # HEIC/HEIF (iPhone photos sent as files) through Pillow's Image.open
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - a dependency; without it HEIC is "not_a_document"
    pass
else:
    register_heif_opener()


def read_letter(
    pages: Sequence[Page],
    *,
    received: date,
    limits: Limits = LIMITS,
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
