"""Catalogs, the per-update translator, plurals, dates and right-to-left isolation.

msgids are English; every shipped language has a compiled catalog, and German is the fallback of
every other catalog, so a gap shows German (the contact point's working language) and never an
English msgid. All catalogs are loaded once at start-up; a missing or stale one fails loudly there
instead of at the first Arabic resident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_day_names,
)
from babel.support import Translations

from bot.core.paths import LOCALES_DIR

DOMAIN = "messages"
DEFAULT_LANGUAGE = "de"
# Staff work in German: the staff group is one shared room, and case cards, notices to staff and
# the daily digest are written for it. One constant, so that this is a decision, not a habit.
STAFF_LANGUAGE = "de"
# Order matters: it is the order of the language chooser.
LANGUAGES = ("de", "ar", "ru", "uk", "en")
LANGUAGE_NAMES = {
    "de": "Deutsch",
    "ar": "العربية",
    "ru": "Русский",
    "uk": "Українська",
    "en": "English",
}
RTL_LANGUAGES = frozenset({"ar"})

# First strong isolate / pop directional isolate: keeps a Latin or numeric fragment (an address, a
# phone number, a time) in its own direction inside Arabic text instead of being reordered.
FSI = "\u2068"
PDI = "\u2069"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (labels defined at import time)."""
    return message


class CatalogError(Exception):
    """A catalog is missing or not compiled; start-up must stop."""


@dataclass(frozen=True)
class Translator:
    """Everything language-dependent for one update: texts, plurals, dates, direction."""

    language: str
    locale: Locale
    timezone: ZoneInfo
    _translations: Translations

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    # `_` so that pybabel finds `context._("…")` and `tr._("…")` like any other gettext call.
    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def isolate(self, fragment: object) -> str:
        """Wrap a left-to-right fragment so that right-to-left text does not reorder it."""
        text = str(fragment)
        return f"{FSI}{text}{PDI}" if self.rtl and text else text

    def date(self, value: date | datetime, format: str = "full") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone).date()
        return self.isolate(format_date(value, format=format, locale=self.locale))

    def time(self, value: time | datetime, format: str = "short") -> str:
        if isinstance(value, datetime):
            value = value.astimezone(self.timezone)
        return self.isolate(format_time(value, format=format, locale=self.locale))

    def datetime(self, value: datetime, format: str = "medium") -> str:
        return self.isolate(
            format_datetime(value, format=format, tzinfo=self.timezone, locale=self.locale)
        )

    def day_label(self, value: date) -> str:
        """Short weekday and date for a button, e.g. "Di., 1. Dez." / "вт, 1 дек."."""
        return self.isolate(format_skeleton("MMMEd", value, locale=self.locale))

    def weekday(self, index: int, width: str = "wide") -> str:
        """Monday is 0, as in datetime.weekday()."""
        return get_day_names(width, locale=self.locale)[index]


class I18n:
    """All catalogs of the process; hands out a Translator per language."""

    def __init__(self, timezone: ZoneInfo, locales_dir: Path = LOCALES_DIR) -> None:
        self.timezone = timezone
        self._translators: dict[str, Translator] = {}
        german = _load_catalog(locales_dir, DEFAULT_LANGUAGE)
        for language in LANGUAGES:
            translations = (
                german if language == DEFAULT_LANGUAGE else _load_catalog(locales_dir, language)
            )
            if language != DEFAULT_LANGUAGE:
                translations.add_fallback(german)
            self._translators[language] = Translator(
                language, Locale.parse(language), timezone, translations
            )

    def translator(self, language: str | None) -> Translator:
        return (
            self._translators.get(language or DEFAULT_LANGUAGE)
            or self._translators[DEFAULT_LANGUAGE]
        )

    @staticmethod
    def supported(language_code: str | None) -> str | None:
        """The shipped language matching Telegram's language_code (IETF tag), or None."""
        if not language_code:
            return None
        try:
            language = Locale.parse(language_code, sep="-" if "-" in language_code else "_")
        except (ValueError, TypeError, UnknownLocaleError):
            return None
        return language.language if language.language in LANGUAGES else None


def _load_catalog(locales_dir: Path, language: str) -> Translations:
    po = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if not mo.is_file():
        raise CatalogError(f"catalog {mo} is missing: run `make catalogs` (pybabel compile)")
    if po.is_file() and po.stat().st_mtime > mo.stat().st_mtime:
        raise CatalogError(f"catalog {mo} is older than its .po: run `make catalogs`")
    with mo.open("rb") as fp:
        return Translations(fp, domain=DOMAIN)
