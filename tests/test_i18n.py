"""Catalogs are complete and consistent; the translator resolves languages, plurals, dates, RTL."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.core.i18n import FSI, LANGUAGES, LOCALES_DIR, PDI, CatalogError, I18n

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_0-9]*\}")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def catalog(language: str):
    with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return read_po(fp, locale=language)


def code_msgids() -> set[str]:
    found = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_msgid_in_the_code_is_in_the_catalog(language):
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog(language) if m.id}
    missing = code_msgids() - ids
    assert not missing, f"{language}: run `make extract` and translate: {sorted(missing)[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_not_fuzzy(language):
    cat = catalog(language)
    assert not cat.fuzzy, f"{language}: the catalog header is marked fuzzy"
    problems = []
    for m in cat:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(s.strip() for s in strings):
            problems.append(m.id)
    assert not problems, f"{language}: untranslated or fuzzy: {problems[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_msgid(language):
    problems = []
    for m in catalog(language):
        if not m.id:
            continue
        if isinstance(m.id, tuple):
            allowed = set(PLACEHOLDER.findall(m.id[1])) | set(PLACEHOLDER.findall(m.id[0]))
            for form in m.string:
                # A form may leave the number out ("يومان"), never add a placeholder.
                if set(PLACEHOLDER.findall(form)) - allowed:
                    problems.append(m.id[0])
        elif set(PLACEHOLDER.findall(m.string)) != set(PLACEHOLDER.findall(m.id)):
            problems.append(m.id)
    assert not problems, f"{language}: placeholders differ: {problems[:5]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_follow_cldr(language):
    cat = catalog(language)
    expected = get_plural(language)
    assert cat.num_plurals == expected.num_plurals
    assert cat.plural_expr.replace(" ", "") == expected.plural_expr.replace(" ", "")
    for m in cat:
        if isinstance(m.id, tuple):
            assert len(m.string) == expected.num_plurals, f"{language}: {m.id[0]}"


def test_arabic_has_six_plural_forms_and_slavic_three():
    assert catalog("ar").num_plurals == 6
    assert catalog("ru").num_plurals == catalog("uk").num_plurals == 3


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Europe/Berlin"))


def test_each_language_gets_its_own_text(i18n):
    prompts = {code: i18n.translator(code)._("Please choose your language.") for code in LANGUAGES}
    assert prompts["en"] == "Please choose your language."
    assert len(set(prompts.values())) == len(LANGUAGES)
    assert re.search(r"[\u0600-\u06FF]", prompts["ar"])
    assert re.search(r"[а-яА-Я]", prompts["ru"])


def test_unknown_language_falls_back_to_german(i18n):
    german = i18n.translator("de")._("Please choose your language.")
    assert i18n.translator("fr")._("Please choose your language.") == german
    assert i18n.translator(None)._("Please choose your language.") == german


def test_missing_entry_falls_back_to_german_not_to_english(i18n, tmp_path):
    # A msgid the Arabic catalog lacks is shown in German.
    ar = i18n.translator("ar")
    ar._translations._catalog.pop("Please choose your language.", None)
    try:
        assert ar._("Please choose your language.") == i18n.translator("de")._(
            "Please choose your language."
        )
    finally:
        I18n.__init__(i18n, ZoneInfo("Europe/Berlin"))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("ar", "ar"),
        ("ar-SY", "ar"),
        ("ru", "ru"),
        ("uk", "uk"),
        ("en-GB", "en"),
        ("fr", None),
        ("pt-br", None),
        ("", None),
        (None, None),
        ("zz-!!", None),
    ],
)
def test_language_code_resolution(code, expected):
    assert I18n.supported(code) == expected


@pytest.mark.parametrize(
    ("language", "n", "form"),
    [
        ("ru", 1, 0),
        ("ru", 3, 1),
        ("ru", 5, 2),
        ("ru", 21, 0),
        ("ru", 180, 2),
        ("ar", 0, 0),
        ("ar", 1, 1),
        ("ar", 2, 2),
        ("ar", 5, 3),
        ("ar", 11, 4),
        ("ar", 180, 4),
        ("ar", 100, 5),
        ("ar", 102, 5),
        ("uk", 22, 1),
        ("de", 1, 0),
        ("de", 180, 1),
    ],
)
def test_plural_form_is_chosen_per_cldr(i18n, language, n, form):
    singular = "The content of your messages is deleted %(days)d day after your request is closed."
    plural = "The content of your messages is deleted %(days)d days after your request is closed."
    strings = next(m.string for m in catalog(language) if m.id == (singular, plural))
    assert i18n.translator(language).ngettext(singular, plural, n) == strings[form]


def test_rtl_isolation_only_for_arabic(i18n):
    assert i18n.translator("ar").isolate("09:00") == f"{FSI}09:00{PDI}"
    assert i18n.translator("de").isolate("09:00") == "09:00"
    assert i18n.translator("ar").rtl and not i18n.translator("ru").rtl


def test_dates_in_the_configured_time_zone_and_language(i18n):
    # 23:30 UTC on 30 March is already 1:30 on 31 March in Berlin (summer time).
    moment = datetime(2026, 3, 30, 23, 30, tzinfo=UTC)
    assert i18n.translator("de").date(moment, "long") == "31. März 2026"
    assert i18n.translator("ru").date(moment, "long") == "31 марта 2026\u202fг."
    assert i18n.translator("de").time(moment) == "01:30"
    assert i18n.translator("de").weekday(1) == "Dienstag"
    assert i18n.translator("ar").time(moment).startswith(FSI)


def test_missing_catalog_fails_loudly_at_start_up(tmp_path):
    with pytest.raises(CatalogError, match="make catalogs"):
        I18n(ZoneInfo("Europe/Berlin"), locales_dir=tmp_path)
