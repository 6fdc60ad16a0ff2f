"""One way to compare what residents write with word lists (crisis phrases, self-help keywords).

People type on phones in a hurry: without capitals, without diacritics, with the Arabic letter
variants they are used to (أ/إ/ا, ة/ه, ى/ي) and Russian е for ё. Both sides of every comparison
go through `normalise`, so a list written "properly" still matches what people actually type.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalise"]

_VARIANTS = str.maketrans(
    {
        # Arabic: hamza forms, taa marbuta and alif maqsura written the plain way.
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        # Russian ё and Ukrainian ґ, very often typed as е and г.
        "ё": "е",
        "ґ": "г",
    }
)
_TATWEEL_AND_MARKS = re.compile(r"[\u0640\u064B-\u065F\u0670]")


def normalise(text: str) -> str:
    """Lower case, no diacritics, Arabic letter variants folded, ё → е, ґ → г, single spaces."""
    text = text.casefold().translate(_VARIANTS)
    text = _TATWEEL_AND_MARKS.sub("", text)
    text = "".join(
        c
        for c in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(c) or "\u0600" <= c <= "\u06ff"
    )
    return " ".join(re.findall(r"\w+", text))
