"""What must survive machine translation: placeholders in, originals back, fallbacks when a
provider garbles them, isolation in Arabic, and the glossary kept in step with the code."""

from __future__ import annotations

import re

import pytest

from bot.core.i18n import FSI, PDI
from bot.core.paths import PROJECT_ROOT as ROOT
from bot.translation.protect import GLOSSARY_TERMS, mask, restore


def isolate(fragment: str) -> str:
    return f"{FSI}{fragment}{PDI}"


@pytest.mark.parametrize(
    "fragment",
    [
        "https://www.erfurt.de/ef/de/service/a?b=1&c=2",
        "www.thinka-erfurt.de",
        "beratung@mitmenschen-erfurt.de",
        "0361 655 4321",
        "+49 361 6554321",
        "116 117",
        "#12",
        "03.12.2026",
        "3.12.",
        "2026-12-03",
        "10:30 Uhr",
        "10 Uhr",
        "1.234,56 €",
        "€ 80",
        "412,00 EUR",
        "Jobcenter",
        "Jobcenters",
        "Bürgergeld",
        "Wohngeld",
        "Ausländerbehörde",
        "Mahnungen",
        "Frist",
        "Berliner Platz",
    ],
)
def test_each_kind_of_fragment_is_protected(fragment):
    masked = mask(f"Bitte beachten Sie {fragment} und melden Sie sich.")
    assert masked.fragments == (fragment,)
    assert '<x i="0" translate="no">' in masked.markup


def test_ordinary_numbers_and_words_are_left_to_the_translator():
    masked = mask("Ich habe 3 Kinder und wohne in Haus 12, die Frau ist fristgerecht gekommen.")
    assert masked.fragments == ()


def test_url_does_not_swallow_the_full_stop_after_it():
    masked = mask("Siehe https://thinka.de/termine.")
    assert masked.fragments == ("https://thinka.de/termine",)
    assert masked.markup.endswith("</x>.")


def test_markup_is_escaped_and_comes_back_unchanged():
    text = "Miete < 500 € & Nebenkosten > 80 € <b>fett</b>, Fall #7"
    masked = mask(text)
    assert "<b>" not in masked.markup and "&lt;b&gt;" in masked.markup
    assert restore(masked.markup, masked, escaped=True).text == text


def test_fragments_come_from_our_list_not_from_the_answer():
    masked = mask("Rufen Sie 0361 655 4321 an.")
    answer = 'اتصل بـ <x i="0" translate="no">0361 000 0000</x>.'  # the provider changed it
    restored = restore(answer, masked, escaped=True, isolate=isolate)
    assert restored.text == f"اتصل بـ {FSI}0361 655 4321{PDI}." and restored.complete


def test_self_closing_and_reordered_elements_are_restored():
    masked = mask("Am 03.12.2026 beim Jobcenter.")
    answer = 'عند <x i="1"/> في <x i="0" translate="no">x</x>.'
    assert restore(answer, masked, escaped=True).text == "عند Jobcenter في 03.12.2026."


def test_element_dropped_but_text_kept_is_found_and_isolated():
    masked = mask("Der Termin ist am 03.12.2026.")
    restored = restore("الموعد في 03.12.2026.", masked, escaped=True, isolate=isolate)
    assert restored.text == f"الموعد في {FSI}03.12.2026{PDI}." and restored.complete


def test_fragment_lost_entirely_is_listed_after_the_translation():
    masked = mask("Bitte rufen Sie 0361 655 4321 an, Fall #12.")
    restored = restore('Please call, case <x i="1">#12</x>.', masked, escaped=True)
    assert not restored.complete
    assert restored.text == "Please call, case #12.\n(0361 655 4321)"


def test_unknown_and_stray_elements_are_removed():
    masked = mask("Fall #3 bitte.")
    answer = 'Case <x i="0">#3</x> <x i="7">bogus</x> please</x>.'
    restored = restore(answer, masked, escaped=True)
    assert restored.text == "Case #3  please." and restored.complete


def test_unescaping_follows_the_provider():
    masked = mask("A & B, Fall #1")
    libre = 'A & B, case <x i="0" translate="no">#1</x>'  # LibreTranslate unescapes itself
    assert restore(libre, masked, escaped=False).text == "A & B, case #1"
    deepl = 'A &amp; B, case <x i="0" translate="no">#1</x>'
    assert restore(deepl, masked, escaped=True).text == "A & B, case #1"


def test_text_without_words_needs_no_translation():
    assert not mask("0361 655 4321 👍").has_words
    assert not mask("https://thinka.de").has_words
    assert mask("Danke! 0361 655 4321").has_words


def test_fragments_never_span_lines():
    masked = mask("Betrag 120\n€ offen, Frist\n03.12.2026")
    assert all("\n" not in fragment for fragment in masked.fragments)


def test_every_term_the_glossary_keeps_in_german_is_protected():
    """docs/glossary.md keeps a German term in brackets ("مركز العمل (Jobcenter)"): the code
    must protect every such term, so the two cannot drift apart."""
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    kept = set()
    for line in glossary.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 6 and f"({cells[1]})" in cells[2]:
            kept.add(cells[1])
    assert {"Jobcenter", "Bürgergeld", "Mahnung", "Ausländerbehörde"} <= kept
    assert kept <= set(GLOSSARY_TERMS)
    # District names stay German too (glossary, last line).
    assert re.search(r"Berliner Platz, Rieth", glossary)
    assert {"Berliner Platz", "Rieth"} <= set(GLOSSARY_TERMS)
