"""What must survive machine translation unchanged, and how it is kept safe.

URLs, e-mail addresses, phone numbers, case numbers (#12), dates, times, amounts and the German
terms residents find on their letters (docs/glossary.md: Jobcenter, Bürgergeld, Mahnung, …) are
wrapped in `<x i="N" translate="no">…</x>` before the text goes to a provider:

- DeepL is asked for tag_handling=xml with ignore_tags=x: what is inside is left alone;
- LibreTranslate (format=html) skips elements marked translate="no";
- the language model's fixed prompt says to copy every <x> element unchanged.

Afterwards every element is replaced by the original fragment from our own list (never by what
came back), so a provider cannot alter a number even if it touched the inside. A provider that
drops or garbles an element does not lose the fragment: it is put where its text still stands,
or listed after the translation, and the result says it is incomplete. In right-to-left output
each fragment is isolated (U+2068…U+2069) like the catalogs' values, so "0361 655 4321" stays
in order inside Arabic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape, unescape

# German terms that stay German in every language (docs/glossary.md: the entries kept in Latin
# script in brackets, plus the words on every letter and sign). Inflected forms are matched too.
GLOSSARY_TERMS = (
    "Ausländerbehörde",
    "Berliner Platz",
    "Bürgergeld",
    "Frist",
    "Jobcenter",
    "Mahnung",
    "Rieth",
    "Stadtteilkonferenz",
    "Th.INKA",
    "Wohngeld",
)
_TERMS = "|".join(re.escape(term) for term in sorted(GLOSSARY_TERMS, key=len, reverse=True))

# Fragments never span a line (spaces, not \s): providers get a message line by line.
# Order matters: at each position the first alternative that matches wins (a URL before the
# digits inside it, a date before a time).
_PATTERN = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"]+)"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<case>#\d+)"
    r"|(?P<amount>€ ?\d[\d.]*(?:,\d{1,2})?|\d[\d.]*(?:,\d{1,2})? ?(?:€|EUR\b|Euro\b))"
    r"|(?P<date>\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}\. ?\d{1,2}\.(?:\d{4}|\d{2})?)"
    r"|(?P<time>\b\d{1,2}[:.]\d{2}(?: ?Uhr\b)?|\b\d{1,2} ?Uhr\b)"
    r"|(?P<phone>(?:\+|\b00|\b0|\b1)\d[\d /()-]{3,}\d)"
    rf"|(?P<term>\b(?:{_TERMS})(?:es|en|e|s|n)?\b)"
)
# A phone number has at least six digits; shorter runs (a house number, "3 Kinder") are text.
_MIN_PHONE_DIGITS = 6
_URL_TRAILING = ".,;:!?)]»\"'"
_ELEMENT = re.compile(r"<x\s+i=\"(\d+)\"[^>]*?(?:/>|>(.*?)</x>)", re.DOTALL)
_STRAY = re.compile(r"</?x\b[^>]*>")


@dataclass(frozen=True)
class Masked:
    markup: str  # escaped text with <x> elements, what a provider gets
    fragments: tuple[str, ...]  # the protected originals, by element number

    @property
    def words(self) -> str:
        return words(self.markup)

    @property
    def has_words(self) -> bool:
        """Whether anything is left to translate once the fragments are taken out."""
        return any(char.isalpha() for char in self.words)


@dataclass(frozen=True)
class Restored:
    text: str
    complete: bool  # every fragment came back in its place


def words(markup: str) -> str:
    """The text without the fragments: what language detection needs, and no more."""
    return unescape(_ELEMENT.sub(" ", markup))


def mask(text: str) -> Masked:
    parts: list[str] = []
    fragments: list[str] = []
    position = 0
    for match in _PATTERN.finditer(text):
        start, end = match.span()
        if match.lastgroup == "url":
            while end > start and text[end - 1] in _URL_TRAILING:
                end -= 1
        if match.lastgroup == "phone" and sum(c.isdigit() for c in match[0]) < _MIN_PHONE_DIGITS:
            continue
        if start < position:
            continue
        fragment = text[start:end]
        parts.append(escape(text[position:start], quote=False))
        parts.append(f'<x i="{len(fragments)}" translate="no">{escape(fragment, quote=False)}</x>')
        fragments.append(fragment)
        position = end
    parts.append(escape(text[position:], quote=False))
    return Masked("".join(parts), tuple(fragments))


def restore(
    output: str,
    masked: Masked,
    *,
    escaped: bool,
    isolate: Callable[[str], str] = lambda fragment: fragment,
) -> Restored:
    """Put the fragments back into a provider's `output`. `escaped`: the provider answers with
    XML entities as it got them (DeepL, the language model); LibreTranslate unescapes itself."""

    def text(piece: str) -> str:
        piece = _STRAY.sub("", piece)
        return unescape(piece) if escaped else piece

    pieces: list[str] = []
    found: set[int] = set()
    position = 0
    for element in _ELEMENT.finditer(output):
        number = int(element[1])
        pieces.append(text(output[position : element.start()]))
        if number < len(masked.fragments):
            pieces.append(isolate(masked.fragments[number]))
            found.add(number)
        position = element.end()
    pieces.append(text(output[position:]))
    result = "".join(pieces)
    missing = []
    for number, fragment in enumerate(masked.fragments):
        if number in found:
            continue
        # The element is gone but the provider kept its text: isolate it where it stands.
        at = result.find(fragment)
        if at >= 0:
            result = result[:at] + isolate(fragment) + result[at + len(fragment) :]
        else:
            missing.append(fragment)
    if missing:
        result = result.rstrip() + "\n(" + " · ".join(isolate(f) for f in missing) + ")"
    return Restored(result, complete=not missing)
