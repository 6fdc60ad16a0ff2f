"""How a reading compares with a letter's expected fields (shared by the tests and the bench)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from bot.letters.reading import LetterReading

from .corpus import Case

FIELDS = ("sender", "letter_date", "reference", "amount", "deadlines")


@dataclass(frozen=True)
class Score:
    right: dict[str, bool]  # field -> read as expected
    invented: int  # deadlines reported that the letter does not set
    missed: int  # deadlines the letter sets that were not reported


def score(case: Case, reading: LetterReading) -> Score:
    expected = case.expected
    got_deadlines = [(d.due, d.certain) for d in reading.deadlines]
    want = Counter(expected.deadlines)
    got = Counter(got_deadlines)
    reference = reading.reference.value if reading.reference else None
    right = {
        "sender": reading.sender is expected.sender,
        "letter_date": reading.letter_date == expected.letter_date,
        "reference": reference == expected.reference,
        "amount": reading.amount == expected.amount,
        "deadlines": tuple(got_deadlines) == expected.deadlines,
    }
    return Score(right, sum((got - want).values()), sum((want - got).values()))


def word_recall(truth: str, recognised: str) -> float:
    """Share of the letter's characters, counted by whole words, that OCR got right; the order
    of the words does not count (the reading order of a two-column head is not an error)."""
    words = Counter(re.findall(r"\w+", truth.lower()))
    found = Counter(re.findall(r"\w+", recognised.lower()))
    total = sum(len(w) * n for w, n in words.items())
    hit = sum(len(w) * min(n, found[w]) for w, n in words.items())
    return hit / total if total else 0.0
