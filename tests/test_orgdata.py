"""Organisation TOML: the bundled file is valid, placeholders are never shown, errors are clear."""

from __future__ import annotations

import pytest

from bot.core.config import BUNDLED_CONFIG, ConfigError
from bot.org.emergency import EMERGENCY_LABELS
from bot.org.orgdata import load_organisation

GLOSSARY_NUMBERS = {
    "police": "110",
    "fire_ambulance": "112",
    "on_call_doctor": "116 117",
    "telefonseelsorge": "0800 111 0 111 · 0800 111 0 222",
    "violence_against_women": "116 016",
    "nummer_gegen_kummer": "116 111",
    "pregnant_women": "0800 40 40 020",
}


def test_bundled_file_has_both_locations_and_every_glossary_emergency_number():
    org = load_organisation(BUNDLED_CONFIG)
    assert org.operator == "MitMenschen e.V."
    assert [loc.district for loc in org.locations] == ["Berliner Platz", "Rieth"]
    assert {e.key: e.number for e in org.emergency_numbers} == GLOSSARY_NUMBERS
    assert set(GLOSSARY_NUMBERS) == set(EMERGENCY_LABELS)


def test_values_the_design_does_not_give_are_placeholders_not_inventions():
    org = load_organisation(BUNDLED_CONFIG)
    for location in org.locations:
        assert location.address is None and location.phone is None
    assert "locations[0].address" in org.placeholders
    assert "organisation.phone" in org.placeholders


def write(tmp_path, body):
    path = tmp_path / "org.toml"
    path.write_text(body, encoding="utf-8")
    return path


VALID = """
[organisation]
name = "Th.INKA"
operator = "MitMenschen e.V."
[[locations]]
key = "rieth"
name = "Th.INKA Rieth"
district = "Rieth"
address = "Musterstraße 1, 99089 Erfurt"
hours = [{ weekday = "tue", opens = "09:00", closes = "12:00" }]
[[emergency]]
key = "police"
number = "110"
"""


def test_filled_in_values_and_hours_are_loaded(tmp_path):
    org = load_organisation(write(tmp_path, VALID))
    rieth = org.locations[0]
    assert rieth.address == "Musterstraße 1, 99089 Erfurt"
    assert rieth.hours[0].weekday == 1 and rieth.hours[0].opens.hour == 9
    assert org.placeholders == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('district = "Rieth"', 'district = "Mitte"'), "'district' must be one of"),
        (('"tue"', '"tuesday"'), "'weekday' must be one of"),
        (('opens = "09:00"', 'opens = "9 Uhr"'), "must be a time like 09:00"),
        (('closes = "12:00"', 'closes = "08:00"'), "'opens' must be before 'closes'"),
        (('key = "police"', 'key = "ghostbusters"'), "unknown key"),
        (('number = "110"', 'number = "TODO"'), "cannot be a placeholder"),
        (("[organisation]", "[org]"), "[organisation]"),
        (('name = "Th.INKA"', 'name = "Th.INKA" = 3'), "not valid TOML"),
    ],
)
def test_mistakes_name_the_place(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_organisation(write(tmp_path, VALID.replace(*change)))
