"""Letter reading on the test corpus: field accuracy, invented deadlines, time per page.

Renders the 36 letters of tests/letters/corpus.py (seeded: the same files every run) into a
temporary folder, reads each with read_letter as the bot would, and compares with the expected
fields. Goals (issue 16): sender ≥ 90 %, deadlines ≥ 90 %, invented deadlines 0, ≤ 3 s per
photographed page on this machine. A last block shows what deskew is worth on the tilted
photos. Set TESSDATA_PREFIX to compare another deu.traineddata.

    python bench/letters.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, machine

sys.path.insert(0, str(ROOT))

from PIL import Image

from bot.letters import ocr
from bot.letters.engine import read_letter
from tests.letters.corpus import CASES, RECEIVED
from tests.letters.render import plain_text, render
from tests.letters.scoring import FIELDS, score, word_recall

GOALS = {"sender": 0.90, "deadlines": 0.90}
SECONDS_PER_PAGE = 3.0


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    print(f"machine: {machine()}, Tesseract {ocr.engine_version()}, model {ocr.tessdata_dir()}")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        files = {c.letter.key: render(c.letter, directory) for c in CASES}
        right = dict.fromkeys(FIELDS, 0)
        invented = missed = 0
        ocr_pages = 0
        ocr_seconds = 0.0
        slowest = 0.0
        for item in CASES:
            started = time.monotonic()
            reading = read_letter(files[item.letter.key], received=RECEIVED)
            elapsed = time.monotonic() - started
            result = score(item, reading)
            invented += result.invented
            missed += result.missed
            for field in FIELDS:
                right[field] += result.right[field]
            wrong = [f for f in FIELDS if not result.right[f]]
            if wrong or reading.failures:
                failures = ",".join(str(f.reason) for f in reading.failures)
                print(f"  {item.letter.key}: wrong {', '.join(wrong) or '-'} {failures}")
            if item.letter.look.form != "text-pdf":
                ocr_pages += reading.pages_read
                ocr_seconds += elapsed
                slowest = max(slowest, elapsed / max(1, reading.pages_read))
        n = len(CASES)
        print(f"letters: {n} ({ocr_pages} photographed or scanned pages, 2 text-layer PDFs)")
        for field in FIELDS:
            share = right[field] / n
            goal = GOALS.get(field)
            mark = f"goal ≥ {goal:.0%}: {verdict(share >= goal)}" if goal else "no goal"
            print(f"{field:12} {share:6.1%} ({right[field]}/{n})  {mark}")
        print(f"invented deadlines: {invented}  goal 0: {verdict(invented == 0)}")
        print(f"missed deadlines:   {missed}")
        per_page = ocr_seconds / max(1, ocr_pages)
        print(
            f"time per page: {per_page:.2f} s mean, {slowest:.2f} s slowest"
            f"  goal ≤ {SECONDS_PER_PAGE:.0f} s: {verdict(per_page <= SECONDS_PER_PAGE)}"
        )
        photos = [c for c in CASES if c.letter.look.form == "photo"]
        tilted = [c for c in photos if abs(c.letter.look.tilt) >= 3]
        straight = askew = 0.0
        for item in tilted:
            truth = plain_text(item.letter)
            with Image.open(files[item.letter.key][0]) as image:
                straight += word_recall(truth, ocr.recognise(ocr.prepare(image), timeout_s=20))
                askew += word_recall(
                    truth, ocr.recognise(ocr.prepare(image, deskew=False), timeout_s=20)
                )
        print(
            f"deskew on {len(tilted)} photos tilted 3-5°: words read {straight / len(tilted):.1%}"
            f" with, {askew / len(tilted):.1%} without"
        )
    failed = (
        any(right[f] / n < goal for f, goal in GOALS.items())
        or invented
        or per_page > SECONDS_PER_PAGE
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
