"""Which writing system a text is in: Arabic or Cyrillic text from a resident set to another
language is a hint that they would rather read the bot in their own language."""

from __future__ import annotations

import unicodedata

# Languages that are written in a script, in the order in which they are offered.
LANGUAGES_BY_SCRIPT = {"ARABIC": ("ar",), "CYRILLIC": ("ru", "uk")}
UKRAINIAN_ONLY = frozenset("іїєґІЇЄҐ")
RUSSIAN_ONLY = frozenset("ыэъёЫЭЪЁ")


def dominant_script(text: str) -> str | None:
    """ARABIC, CYRILLIC or LATIN when most letters are of that script, else None."""
    counts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        name = unicodedata.name(char, "")
        script = name.split(" ", 1)[0]
        if script in ("ARABIC", "CYRILLIC", "LATIN"):
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    script, count = max(counts.items(), key=lambda item: item[1])
    return script if count * 2 > sum(counts.values()) else None


def suggested_languages(text: str, current: str) -> tuple[str, ...]:
    """Languages worth offering for a text written in another script than `current` uses."""
    script = dominant_script(text)
    candidates = LANGUAGES_BY_SCRIPT.get(script or "", ())
    if current in candidates:
        return ()
    if script == "CYRILLIC":
        letters = set(text)
        if letters & UKRAINIAN_ONLY and not letters & RUSSIAN_ONLY:
            return ("uk", "ru")
    return candidates
