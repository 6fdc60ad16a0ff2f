"""Which language a text is in, and what languages are called.

A resident set to Russian who writes Arabic is translated from Arabic: the writing system
decides where it can (bot/text/scripts.py), without asking anyone. Where it cannot (Latin
letters from a resident set to Arabic: German? English? Turkish?), the provider detects.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from bot.core.i18n import STAFF_LANGUAGE
from bot.text.scripts import RUSSIAN_ONLY, UKRAINIAN_ONLY, dominant_script

# Letters Persian, Urdu or Pashto use and Arabic does not: Arabic script, but not Arabic.
NOT_ARABIC = frozenset("پچژگڤٹڈڑںھےۀ")
LATIN_SETTINGS = frozenset({"de", "en"})


def source_language(text: str, setting: str) -> str | None:
    """The language of `text` by its letters, or None when a provider has to tell."""
    script = dominant_script(text)
    letters = set(text)
    if script == "ARABIC":
        return None if letters & NOT_ARABIC else "ar"
    if script == "CYRILLIC":
        ukrainian, russian = bool(letters & UKRAINIAN_ONLY), bool(letters & RUSSIAN_ONLY)
        if ukrainian and not russian:
            return "uk"
        if russian and not ukrainian:
            return "ru"
        return setting if setting in ("ru", "uk") else None
    if script == "LATIN":
        # German and English residents write Latin letters: trust the setting. Anyone else
        # writing Latin letters may be writing German to us, or their own language.
        return setting if setting in LATIN_SETTINGS else None
    return setting if script is None else None


def name(language: str, in_language: str = STAFF_LANGUAGE) -> str:
    """The language's name in another language, from CLDR (Babel): "Arabisch"."""
    try:
        names = Locale.parse(in_language).languages
    except (ValueError, UnknownLocaleError):
        return language
    return names.get(language, language)


def german_dative(language: str) -> str:
    """For "aus dem …": German language names in -isch are adjectives ("aus dem Arabischen");
    others are not inflected ("aus dem Tigrinya")."""
    word = name(language, "de")
    return word + "en" if word.endswith("isch") else word


def german_accusative(language: str) -> str:
    """For "ins …": "ins Arabische", "ins Tigrinya"."""
    word = name(language, "de")
    return word + "e" if word.endswith("isch") else word
