"""Script detection for the language-switch offer."""

import pytest

from bot.text.scripts import dominant_script, suggested_languages


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("مرحبا، عندي رسالة من Jobcenter", "ARABIC"),
        ("Здравствуйте, у меня долги", "CYRILLIC"),
        ("Hallo, ich habe eine Mahnung", "LATIN"),
        ("12345 !!!", None),
        ("👍", None),
    ],
)
def test_dominant_script(text, script):
    assert dominant_script(text) == script


def test_offers_only_languages_of_another_script():
    assert suggested_languages("مرحبا", "de") == ("ar",)
    assert suggested_languages("مرحبا", "ar") == ()
    assert suggested_languages("Привет", "de") == ("ru", "uk")
    assert suggested_languages("Привіт, їжак", "en") == ("uk", "ru")  # і/ї: Ukrainian first
    assert suggested_languages("Привет", "uk") == ()
    assert suggested_languages("Guten Tag", "ar") == ()
