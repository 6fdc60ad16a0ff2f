"""Signs of acute danger in a resident's message: violence, suicide, a child at risk.

The phrases live in the translation catalogs, not in Python: each category below is a msgid
whose translation is that language's list of phrases, separated by "|". Staff and translators can
extend them without touching code. A message is checked against the lists of *every* shipped
language, because people in distress write in whatever language comes. Matching is on
normalised text (case, diacritics, Arabic letter variants, ё/е), as whole words or phrases.
False positives are acceptable: the answer is the list of emergency numbers.
"""

from __future__ import annotations

import re
from collections import Counter

from bot.core.i18n import LANGUAGES, N_, I18n
from bot.text.textnorm import normalise

CATEGORIES = {
    "suicide": N_("crisis phrases: suicide and self-harm"),
    "violence": N_("crisis phrases: violence and threats"),
    "child": N_("crisis phrases: a child in danger"),
}

# Arabic writes و (and), ف, ب (with), ل (for) and ال (the) onto the word: "وضربني", "بالسكين".
_ARABIC_PREFIX = "(?:وال|بال|فال|لل|ال|و|ف|ب|ل)?"
# People in distress do not write the phrase exactly: up to two words may stand in between
# ("er hat mich gestern wieder geschlagen" for "hat mich geschlagen").
_GAP = r"(?:\s+\w+){0,2}?\s+"


def _pattern(phrase: str) -> str:
    """Words in order, each a stem at the start of a word, short gaps allowed.

    Fragments shorter than three letters (e.g. Ukrainian «б'є», split at the apostrophe) must
    stand right next to each other: with gaps they would match almost any text.
    """
    words = phrase.split()
    parts = []
    for word in words:
        prefix = _ARABIC_PREFIX if "\u0600" <= word[0] <= "\u06ff" else ""
        parts.append(rf"(?<!\w){prefix}{re.escape(word)}\w*")
    gap = _GAP if all(len(word) >= 3 for word in words) else r"\s+"
    return gap.join(parts)


_ARABIC_PREFIXES = ("وال", "بال", "فال", "لل", "ال", "و", "ف", "ب", "ل")


class CrisisDetector:
    def __init__(self, i18n: I18n) -> None:
        self._patterns: dict[str, re.Pattern[str]] = {}
        # The prefilter: a phrase can only match where, for each of its words, a word of the
        # text begins with it (after an Arabic prefix, perhaps). Most messages have no phrase
        # whose words are all there and skip the regexes, which cost far more than these set
        # look-ups (docs/performance.md).
        all_phrases: set[str] = set()
        for category, msgid in CATEGORIES.items():
            phrases = set()
            for language in LANGUAGES:
                translated = i18n.translator(language)._(msgid)
                if translated == msgid:
                    continue  # not translated: nothing to match for this language
                phrases.update(p for p in (normalise(x) for x in translated.split("|")) if p)
            all_phrases.update(phrases)
            # One alternation per category: every message passes here, and one scan of the text
            # is far cheaper than hundreds of separate searches.
            self._patterns[category] = re.compile(
                "|".join(f"(?:{_pattern(phrase)})" for phrase in sorted(phrases)) or r"(?!)"
            )
        # Phrases filed under their rarest word ("nicht" stands in many phrases and in most
        # German messages), so that only the few phrases whose rarest word is there are checked.
        counts = Counter(word for phrase in all_phrases for word in set(phrase.split()))
        self._by_key: dict[str, list[frozenset[str]]] = {}
        for phrase in all_phrases:
            words = phrase.split()
            key = min(words, key=lambda w: (counts[w], -len(w)))
            self._by_key.setdefault(key, []).append(frozenset(words))
        self._vocabulary = set(counts)
        self._lengths = sorted({len(word) for word in counts})

    def categories(self, text: str) -> set[str]:
        """The danger categories the text shows signs of (empty: none)."""
        clean = normalise(text)
        if not self._may_match(clean):
            return set()
        return {category for category, pattern in self._patterns.items() if pattern.search(clean)}

    def _may_match(self, clean: str) -> bool:
        """False only where no phrase can match: for no phrase does every word start a word of
        the (normalised: words separated by single spaces) text, with or without an Arabic
        prefix. Never a false "no": a pattern matches each of its words at a word start."""
        present = set()
        for token in clean.split(" "):
            for start in (0, *(len(p) for p in _ARABIC_PREFIXES if token.startswith(p))):
                rest = token[start:]
                for length in self._lengths:
                    if length > len(rest):
                        break
                    if rest[:length] in self._vocabulary:
                        present.add(rest[:length])
        return any(
            words <= present
            for key in present.intersection(self._by_key)
            for words in self._by_key[key]
        )
