"""read_letter and LetterReader: what a resident may send never raises, never blocks the event
loop, and the letter's text never reaches the log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image

from bot.letters.engine import read_letter
from bot.letters.extract import SenderKind
from bot.letters.reader import LetterReader
from bot.letters.reading import Failure, Limits

from .corpus import RECEIVED

Rendered = Callable[[str], list[Path]]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def reasons(reading) -> list[Failure]:
    return [f.reason for f in reading.failures]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", Failure.NOT_A_DOCUMENT),
        (b"hello, this is text", Failure.NOT_A_DOCUMENT),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 50, Failure.NOT_A_DOCUMENT),  # a broken PNG
        (b"%PDF-1.7\nnot really a pdf", Failure.NOT_A_DOCUMENT),
        (b"\xff\xd8\xff\xe0" + b"JFIF" * 10, Failure.NOT_A_DOCUMENT),  # a cut-off JPEG
    ],
)
def test_garbage_is_not_read_and_does_not_raise(data: bytes, reason: Failure) -> None:
    reading = read_letter([data], received=RECEIVED)
    assert not reading.read
    assert reasons(reading) == [reason]
    assert reading.as_dict()["read"] is False


def test_a_missing_file_is_not_read(tmp_path: Path) -> None:
    reading = read_letter([tmp_path / "nothing.jpg"], received=RECEIVED)
    assert reasons(reading) == [Failure.NOT_A_DOCUMENT]


def test_size_limits() -> None:
    small = png(Image.new("L", (100, 100), 255))
    assert reasons(read_letter([small], received=RECEIVED, limits=Limits(max_file_bytes=50))) == [
        Failure.TOO_LARGE
    ]
    # 8000 x 8000 px compresses to a few kB: the pixel limit, not the byte limit, stops it.
    bomb = png(Image.new("1", (8_000, 8_000), 1))
    assert len(bomb) < 100_000
    started = time.monotonic()
    assert reasons(read_letter([bomb], received=RECEIVED)) == [Failure.TOO_LARGE]
    assert time.monotonic() - started < 2


def test_too_many_pages() -> None:
    pdf = FPDF()
    for _ in range(4):
        pdf.add_page()
    reading = read_letter([bytes(pdf.output())], received=RECEIVED, limits=Limits(max_pages=3))
    assert reasons(reading) == [Failure.TOO_MANY_PAGES]
    blank = png(Image.new("L", (400, 500), 255))
    reading = read_letter([blank] * 2, received=RECEIVED, limits=Limits(max_pages=1))
    assert reasons(reading) == [Failure.NO_TEXT, Failure.TOO_MANY_PAGES]


def test_an_iphone_heic_photo_is_read(rendered: Rendered) -> None:
    [photo] = rendered("ab_fiktion")  # Telegram-sized: small enough to encode quickly
    buffer = io.BytesIO()
    with Image.open(photo) as image:
        image.save(buffer, "HEIF", quality=80)
    reading = read_letter([buffer.getvalue()], received=RECEIVED)
    assert reading.read, reasons(reading)
    assert reading.sender is SenderKind.AUSLAENDERBEHOERDE
    assert [d.due for d in reading.deadlines] == [date(2027, 1, 20)]


def test_a_blank_photo_has_no_text() -> None:
    reading = read_letter([png(Image.new("L", (1200, 1700), 240))], received=RECEIVED)
    assert reasons(reading) == [Failure.NO_TEXT]


def test_a_page_that_takes_too_long_is_a_timeout_not_an_exception(rendered: Rendered) -> None:
    started = time.monotonic()
    reading = read_letter(
        rendered("jc_mitwirkung"), received=RECEIVED, limits=Limits(page_timeout_s=0.05)
    )
    assert reasons(reading) == [Failure.TIMEOUT]
    assert time.monotonic() - started < 3


def test_ocr_off_reads_no_photo_but_still_a_text_layer(rendered: Rendered) -> None:
    photo = rendered("jc_mitwirkung")
    text_pdf = rendered("fa_bescheid")
    assert reasons(read_letter(photo, received=RECEIVED, ocr_on=False)) == [Failure.OCR_OFF]
    reading = read_letter(text_pdf, received=RECEIVED, ocr_on=False)
    assert reading.read and reading.sender is SenderKind.FINANZAMT


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def junk_and_letter(rendered: Rendered):
    """[junk, a photo of a letter] read once, with everything logged at DEBUG kept."""
    records = _Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(records)
    root.setLevel(logging.DEBUG)
    try:
        reading = read_letter([b"junk", *rendered("jc_mitwirkung")], received=RECEIVED)
    finally:
        root.removeHandler(records)
        root.setLevel(level)
    return reading, "\n".join(records.lines)


def test_one_bad_page_does_not_lose_the_others(junk_and_letter) -> None:
    reading, _ = junk_and_letter
    assert reading.read and reading.pages_read == 1
    assert [(f.file, f.reason) for f in reading.failures] == [(1, Failure.NOT_A_DOCUMENT)]
    assert reading.sender is SenderKind.JOBCENTER


def test_as_dict_is_json_and_leaves_out_the_text(junk_and_letter) -> None:
    reading, _ = junk_and_letter
    data = json.loads(json.dumps(reading.as_dict()))
    assert data["failures"] == [{"file": 1, "page": 0, "reason": "not_a_document"}]
    assert data["sender"] == {"kind": "jobcenter", "label": "Jobcenter"}
    assert data["letter_date"] == "2026-12-02"
    assert data["reference"] == {"label": "BG-Nummer", "value": "07301BG0012345"}
    assert data["amount"] is None
    [deadline] = data["deadlines"]
    assert deadline["date"] == "2026-12-15" and deadline["certain"] is True
    assert deadline["basis"] == "text"
    assert "bis zum 15. Dezember 2026" in deadline["wording"]
    assert "text" not in data
    assert "Karimi" not in repr(reading)  # the text is content: not in repr either


def test_the_letter_text_never_reaches_the_log(junk_and_letter) -> None:
    reading, logged = junk_and_letter
    assert "Karimi" in reading.text  # it was read …
    assert "letter read" in logged  # … and something was logged …
    for word in ("Karimi", "Unterlagen", "07301BG0012345", "15. Dezember", "Mietvertrag"):
        assert word not in logged  # … but none of its content


async def test_a_flood_of_letters_is_refused_not_queued_forever() -> None:
    # OCR off: each letter is done at once, so only the queue is measured.
    reader = LetterReader(max_waiting=2, ocr_on=False)
    blank = png(Image.new("L", (1200, 1700), 240))
    try:
        results = await asyncio.gather(
            *(reader.read([blank], received=date(2026, 12, 4)) for _ in range(4))
        )
    finally:
        reader.close()
    outcomes = sorted(str(r.failures[0].reason) for r in results)
    assert outcomes == ["busy", "busy", "ocr_off", "ocr_off"]


async def test_a_letter_that_overruns_its_whole_limit_is_not_read(rendered: Rendered) -> None:
    reader = LetterReader(letter_timeout_s=0.5)
    try:
        started = time.monotonic()
        # A tilted photo takes a second or more to read: far over this limit.
        reading = await reader.read(rendered("ink_forderung"), received=RECEIVED)
    finally:
        reader.close()
    assert reasons(reading) == [Failure.TIMEOUT]
    assert 0.4 < time.monotonic() - started < 1.5


async def test_letters_are_read_in_a_process_of_their_own_that_ends_when_idle(
    rendered: Rendered,
) -> None:
    """The engine's memory (a few hundred MB at the peak) stays out of the bot's process, and is
    given back: the reading process ends after `idle_s` without a letter, and at once on close,
    also in the middle of a letter; a process that dies is only "not read"."""
    before = set(multiprocessing.active_children())
    reader = LetterReader(idle_s=0.3)
    try:
        reading = await reader.read(rendered("fa_bescheid"), received=RECEIVED)
        (child,) = set(multiprocessing.active_children()) - before
        assert reading.read and reading.sender is SenderKind.FINANZAMT
        assert child.pid != os.getpid()
        await asyncio.sleep(1.0)
        assert not child.is_alive()  # idle: gone, memory given back
        slow = asyncio.create_task(reader.read(rendered("ink_forderung"), received=RECEIVED))
        await asyncio.sleep(0.8)  # started, and reading
        (child,) = set(multiprocessing.active_children()) - before
        started = time.monotonic()
        reader.close()  # the bot stops: no waiting for the letter
        assert time.monotonic() - started < 2 and not child.is_alive()
        assert reasons(await slow) == [Failure.ERROR]
        assert (await reader.read(rendered("fa_bescheid"), received=RECEIVED)).read  # a new one
    finally:
        reader.close()


def test_the_bots_process_never_imports_the_engine() -> None:
    """Pillow, numpy, Tesseract, PDFium and dateparser (about 25 MB and 0.3 s of start-up) are
    the reading process's; the bot's process only needs the results' types."""
    import subprocess
    import sys

    engine = ("numpy", "PIL", "pypdfium2", "dateparser", "tesserocr", "pillow_heif")
    probe = f"import bot.app, sys; print(sorted(m for m in {engine!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
