"""Read a letter off the event loop: `LetterReader.read` runs the engine
(`engine.read_letter`) in a process of its own, so the bot's event loop never waits for
Tesseract, the engine's libraries and memory stay out of the bot's process, and two letters are
never read at once on a small machine. It never raises for what a resident may send: a file that
is too big, not an image, locked, or takes too long becomes a failure in the result ("not
read"), never an exception. Logs carry counts, reasons and timings, never the letter's text.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.process
from collections.abc import Sequence
from datetime import date
from multiprocessing.connection import Connection

from bot.letters.reading import Failure, LetterReading, Limits, Page, PageFailure

logger = logging.getLogger(__name__)
LIMITS = Limits()


def _serve(connection: Connection, log_level: int) -> None:
    """The reading process: (pages, received, limits, ocr_on) in, a LetterReading out, until
    the bot goes away. Logs to the same stderr at the bot's level: counts, reasons, timings."""
    logging.basicConfig(
        level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # Pillow, Tesseract, PDFium: imported in this process only, never in the bot's.
    from bot.letters.engine import read_letter

    while True:
        try:
            pages, received, limits, ocr_on = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reading = read_letter(pages, received=received, limits=limits, ocr_on=ocr_on)
        except Exception as exc:  # read_letter catches what pages may do; this is a bug
            logger.error("letter reading failed: %s", type(exc).__name__)
            reading = LetterReading.not_read([PageFailure(0, 0, Failure.ERROR)])
        connection.send(reading)


class LetterReader:
    """The async front of `read_letter`: a process of its own, one letter at a time, at most
    `max_waiting` letters queued, and a time limit per letter on top of the one per page.

    A process rather than a thread: Tesseract with its model and the page images take a few
    hundred MB at the peak (about 265 MB for a phone photo, 360 MB for a 300 dpi scan), which
    stay out of the bot's process; a crash of the engine cannot take the bot down; and a letter
    that overruns its limit, or the bot stopping, ends the process instead of waiting for it. The
    process starts with the first letter (about half a second, spawned: a fresh interpreter, not
    a fork of the bot with its threads and sockets) and ends after `idle_s` without a letter,
    giving its memory back."""

    def __init__(
        self,
        *,
        limits: Limits = LIMITS,
        ocr_on: bool = True,
        max_waiting: int = 8,
        letter_timeout_s: float | None = None,
        idle_s: float = 300.0,
    ) -> None:
        self._limits = limits
        # Each page stops itself after page_timeout_s; this catches what would not.
        self._letter_timeout_s = letter_timeout_s or limits.page_timeout_s * limits.max_pages + 10
        self._ocr_on = ocr_on
        self._max_waiting = max_waiting
        self._idle_s = idle_s
        self._waiting = 0
        self._turn = asyncio.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._idle: asyncio.TimerHandle | None = None

    async def read(self, pages: Sequence[Page], *, received: date) -> LetterReading:
        if self._waiting >= self._max_waiting:
            return LetterReading.not_read([PageFailure(0, 0, Failure.BUSY)])
        self._waiting += 1
        try:
            async with self._turn:
                if self._idle is not None:
                    self._idle.cancel()
                try:
                    return await self._in_process(list(pages), received)
                finally:
                    self._idle = asyncio.get_running_loop().call_later(self._idle_s, self.close)
        finally:
            self._waiting -= 1

    async def _in_process(self, pages: list[Page], received: date) -> LetterReading:
        connection = self._start()
        request = (pages, received, self._limits, self._ocr_on)
        limit = self._letter_timeout_s
        try:
            # A thread waits for the answer (and sends the pages, up to 10 x 20 MB, which
            # would block while the process starts): the event loop never does.
            return await asyncio.wait_for(asyncio.to_thread(_exchange, connection, request), limit)
        except TimeoutError:
            logger.error("letter reading exceeded %.0f s; its process is ended", limit)
            self.close()
            return LetterReading.not_read([PageFailure(0, 0, Failure.TIMEOUT)])
        except (EOFError, OSError) as exc:
            logger.error("the letter reading process ended unexpectedly (%s)", type(exc).__name__)
            self.close()
            return LetterReading.not_read([PageFailure(0, 0, Failure.ERROR)])

    def _start(self) -> Connection:
        if self._process is None or not self._process.is_alive() or self._connection is None:
            self.close()
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_serve,
                args=(theirs, logging.getLogger().level),
                name="letters",
                daemon=True,  # ended with the bot, whatever happens
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours
        return self._connection

    def close(self) -> None:
        """End the reading process now (in the middle of a letter too: it stays unread)."""
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None
        process, self._process, self._connection = self._process, None, None
        if process is not None and process.is_alive():
            process.terminate()
            process.join(2)
            if process.is_alive():
                process.kill()
                process.join(1)


def _exchange(connection: Connection, request: tuple) -> LetterReading:
    connection.send(request)
    return connection.recv()
