"""Deep links for posters: district, language and source there and back, within Telegram's rules
for the start parameter; anything else reads as no deep link at all."""

from __future__ import annotations

import itertools

import pytest
from telegram.constants import MessageLimit
from telegram.helpers import create_deep_linked_url

from bot.core.config import BUNDLED_CONFIG
from bot.core.i18n import LANGUAGES
from bot.org.orgdata import DISTRICTS, load_organisation
from bot.outreach.deeplinks import (
    MAX_PAYLOAD,
    DeepLink,
    build_payload,
    deep_link_url,
    district_slugs,
    normalise_source,
    parse_payload,
)

SLUGS = district_slugs(load_organisation(BUNDLED_CONFIG).locations)


def test_the_slugs_are_the_location_keys_of_the_organisation_file():
    assert SLUGS == {"berliner_platz": "Berliner Platz", "rieth": "Rieth"}
    assert set(SLUGS.values()) == set(DISTRICTS)
    assert MAX_PAYLOAD == MessageLimit.DEEP_LINK_LENGTH == 64


@pytest.mark.parametrize(
    ("district", "language"), list(itertools.product(DISTRICTS, (*LANGUAGES, None)))
)
@pytest.mark.parametrize("source", [None, "treppenhaus-2027", "Stadtteilkonferenz"])
def test_round_trip_for_every_district_and_language(district, language, source):
    payload = build_payload(district, language, source, districts=SLUGS)
    expected_source = None if source is None else source.lower()
    assert parse_payload(payload, districts=SLUGS) == DeepLink(district, language, expected_source)
    # Telegram hands it over as "/start <payload>".
    assert parse_payload(f"/start {payload}", districts=SLUGS) == DeepLink(
        district, language, expected_source
    )


def test_the_example_from_the_issue():
    assert build_payload("rieth", "ar", "treppenhaus-2027", districts=SLUGS) == (
        "rieth-ar-treppenhaus-2027"
    )
    assert parse_payload("rieth-ar-treppenhaus-2027", districts=SLUGS) == DeepLink(
        "Rieth", "ar", "treppenhaus-2027"
    )
    assert build_payload("Berliner Platz", districts=SLUGS) == "berliner_platz"


def test_a_source_that_starts_like_a_language_keeps_its_meaning():
    payload = build_payload("rieth", None, "de-flyer", districts=SLUGS)
    assert payload == "rieth--de-flyer"
    assert parse_payload(payload, districts=SLUGS) == DeepLink("Rieth", None, "de-flyer")
    assert parse_payload("rieth-de-flyer", districts=SLUGS) == DeepLink("Rieth", "de", "flyer")


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Treppenhaus Straße 5 / 2027", "treppenhaus-strasse-5-2027"),
        ("Ärztehaus Rieth", "aerztehaus-rieth"),
        ("Café  Übersee", "cafe-uebersee"),
        ("  --Flyer__Kita--  ", "flyer-kita"),
        ("STADTTEILKONFERENZ", "stadtteilkonferenz"),
    ],
)
def test_source_names_are_normalised(name, normalised):
    assert normalise_source(name) == normalised
    payload = build_payload("rieth", "ru", name, districts=SLUGS)
    assert payload == f"rieth-ru-{normalised}"
    assert parse_payload(payload, districts=SLUGS).source == normalised


def test_64_characters_are_allowed_and_65_are_not():
    fits = "x" * (MAX_PAYLOAD - len("berliner_platz-uk-"))
    payload = build_payload("berliner_platz", "uk", fits, districts=SLUGS)
    assert len(payload) == 64
    assert parse_payload(payload, districts=SLUGS) == DeepLink("Berliner Platz", "uk", fits)
    with pytest.raises(ValueError, match="Telegram allows 64"):
        build_payload("berliner_platz", "uk", fits + "x", districts=SLUGS)
    assert parse_payload(payload + "x", districts=SLUGS) is None


@pytest.mark.parametrize(
    ("district", "language", "source", "problem"),
    [
        ("Erfurt-Nord", None, None, "unknown district"),
        ("rieth", "fr", None, "unknown language"),
        ("rieth", "ar", "ملصق", "no letters or digits"),
        ("rieth", "ar", "", "no letters or digits"),
    ],
)
def test_build_refuses_what_telegram_or_the_bot_would_not_understand(
    district, language, source, problem
):
    with pytest.raises(ValueError, match=problem):
        build_payload(district, language, source, districts=SLUGS)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "/start",
        "ref_12345",  # somebody else's campaign
        "moabit-ar-flyer",  # a district we do not serve
        "rieth-ar-trep penhaus",  # not one start parameter
        "rieth-ar-tr€ppe",
        "rieth-ar--flyer",  # an empty word inside the source
        "rieth-ar-flyer_2027",  # _ belongs to slugs, not to sources
        "/startgroup rieth",
        "/starting rieth",
        "rieth-" + "x" * 70,
    ],
)
def test_foreign_or_mangled_payloads_read_as_none(text):
    assert parse_payload(text, districts=SLUGS) is None


def test_lenient_where_nothing_can_be_mistaken():
    # A link typed by hand with capitals, the bot's name after /start in a group, spaces around.
    assert parse_payload("Rieth-AR", districts=SLUGS) == DeepLink("Rieth", "ar", None)
    assert parse_payload("/start@thinka_erfurt_bot rieth", districts=SLUGS) == DeepLink(
        "Rieth", None, None
    )
    assert parse_payload("  berliner_platz-en  ", districts=SLUGS) == DeepLink(
        "Berliner Platz", "en", None
    )


def test_the_url_is_the_one_python_telegram_bot_builds():
    payload = build_payload("rieth", "ar", "treppenhaus-2027", districts=SLUGS)
    url = deep_link_url("@thinka_erfurt_bot", payload)
    assert url == "https://t.me/thinka_erfurt_bot?start=rieth-ar-treppenhaus-2027"
    assert url == create_deep_linked_url("thinka_erfurt_bot", payload)


@pytest.mark.parametrize(
    "username", ["thinka", "abot", "1thinka_bot", "thinka-bot", "x" * 30 + "bot"]
)
def test_the_url_needs_a_bot_username(username):
    with pytest.raises(ValueError, match="bot username"):
        deep_link_url(username, "rieth")


def test_the_url_refuses_a_payload_telegram_would_not_carry():
    with pytest.raises(ValueError, match="start parameter"):
        deep_link_url("thinka_erfurt_bot", "rieth ar")
