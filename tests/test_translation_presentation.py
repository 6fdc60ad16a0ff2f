"""What staff and residents see of a translation, in every shipped language: pure functions."""

from __future__ import annotations

import re
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import FSI, LANGUAGES, PDI, I18n
from bot.translation import presentation
from bot.translation.port import Failure
from bot.translation.presentation import CAPTION_LIMIT, TEXT_LIMIT, _length
from bot.translation.providers import ProviderInfo
from bot.translation.service import Outcome, Status


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Europe/Berlin"))


@pytest.fixture
def staff(i18n):
    return i18n.translator("de")


def translated(original, text, source="ar", target="de", setting="ar", complete=True):
    return Outcome(
        Status.TRANSLATED,
        original,
        target,
        text=text,
        source=source,
        setting=setting,
        complete=complete,
    )


# -- resident -> staff ----------------------------------------------------------------------
def test_staff_see_one_message_translation_labelled_original_quoted(staff):
    outcome = translated("عندي <سؤال> & رسالة", "Ich habe eine <Frage> & einen Brief")
    (message,) = presentation.for_staff(staff, outcome)
    assert message == (
        "🌐 <i>maschinell übersetzt aus dem Arabischen</i>\n\n"
        "Ich habe eine &lt;Frage&gt; &amp; einen Brief\n\n"
        "<blockquote>عندي &lt;سؤال&gt; &amp; رسالة</blockquote>"
    )


@pytest.mark.parametrize(
    ("source", "label"),
    [
        ("ru", "aus dem Russischen"),
        ("uk", "aus dem Ukrainischen"),
        ("en", "aus dem Englischen"),
        ("fa", "aus dem Persischen"),
        ("ti", "aus dem Tigrinya"),
    ],
)
def test_language_names_are_declined_in_german(staff, source, label):
    outcome = translated("…", "Text", source=source, setting=source)
    assert f"maschinell übersetzt {label}" in presentation.for_staff(staff, outcome)[0]


def test_a_detected_language_is_named_beside_the_setting(staff):
    outcome = translated("سؤال", "Frage", source="ar", setting="ru")
    assert presentation.source_label(staff, outcome) == (
        "maschinell übersetzt aus dem Arabischen (erkannt; eingestellt ist Russisch)"
    )


def test_incomplete_translation_points_to_the_original(staff):
    outcome = translated("اتصل 0361 655", "Rufen Sie an\n(0361 655)", complete=False)
    assert (
        "Einige Angaben stehen nur im Original unten." in presentation.for_staff(staff, outcome)[0]
    )


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (Failure.TIMEOUT, "Zeitüberschreitung"),
        (Failure.UNAVAILABLE, "Dienst nicht erreichbar"),
        (Failure.RATE_LIMITED, "zu viele Anfragen"),
        (Failure.QUOTA, "Kontingent aufgebraucht"),
        (Failure.REFUSED, "Anfrage abgelehnt"),
        (Failure.GARBAGE, "unbrauchbare Antwort"),
    ],
)
def test_a_failure_is_said_with_the_original(staff, failure, reason):
    outcome = Outcome(Status.FAILED, "سؤال", "de", source="ar", setting="ar", failure=failure)
    (message,) = presentation.for_staff(staff, outcome)
    assert message == (
        f"⚠️ <i>Übersetzung fehlgeschlagen ({reason}). Das Original:</i>\n\n"
        "<blockquote>سؤال</blockquote>"
    )


def test_opted_out_is_said_and_nothing_else_is_added(staff):
    opted = Outcome(Status.OPTED_OUT, "سؤال", "de", setting="ar")
    assert "Übersetzung ihrer Nachrichten abgeschaltet" in presentation.for_staff(staff, opted)[0]
    for status in (Status.OFF, Status.SAME_LANGUAGE, Status.NOTHING):
        assert presentation.for_staff(staff, Outcome(status, "x", "de")) is None


def test_caption_translation_goes_beside_the_copy(staff):
    outcome = translated("صورة الرسالة", "Foto des Briefes")
    assert presentation.staff_caption(staff, outcome) == (
        "🌐 <i>maschinell übersetzt aus dem Arabischen (Bildunterschrift)</i>\n\nFoto des Briefes"
    )
    failed = Outcome(Status.FAILED, "صورة", "de", failure=Failure.TIMEOUT)
    assert presentation.staff_caption(staff, failed) == (
        "⚠️ <i>Bildunterschrift: Übersetzung fehlgeschlagen (Zeitüberschreitung).</i>"
    )
    assert presentation.staff_caption(staff, Outcome(Status.NOTHING, "", "de")) is None


def test_long_texts_are_split_within_telegrams_limit_never_cut(staff):
    original = ("كلمة " * 900).strip()  # 4499 characters
    text = ("Wort " * 900).strip()
    messages = presentation.for_staff(staff, translated(original, text))
    assert len(messages) >= 3
    assert all(_length(m) <= TEXT_LIMIT for m in messages)
    assert messages[0].startswith("🌐 <i>maschinell übersetzt")
    joined = " ".join(messages)
    assert joined.count("Wort") == 900 and joined.count("كلمة") == 900


def test_a_text_full_of_ampersands_is_split_so_that_its_html_fits_too(staff, i18n):
    """Telegram counts the text without tags, but the courier sends at most 4096 characters
    of a message's HTML: an escaped "&" is five. Cut there, a message would lose its closing
    tags and Telegram would refuse it, so each part must fit as HTML as well."""
    original = ("A & B <3 " * 440).strip()  # 3959 characters, 6599 as HTML
    messages = presentation.for_staff(staff, translated(original, original))
    assert all(len(m) <= TEXT_LIMIT and _length(m) <= TEXT_LIMIT for m in messages)
    joined = " ".join(unescape(re.sub(r"<[^>]+>", "", m)) for m in messages)
    assert joined.count("A & B <3") == 880  # nothing lost
    answer = presentation.for_resident(
        i18n.translator("ar"), translated(original, original, target="ar")
    )
    assert all(len(m) <= TEXT_LIMIT for m in answer)
    receipt = presentation.staff_receipt(staff, translated(original, original, target="ar"))
    assert len(receipt) <= TEXT_LIMIT and receipt.endswith(" …</blockquote>")


# -- staff -> resident ----------------------------------------------------------------------
EXPECTED_LABELS = {
    "de": "Maschinelle Übersetzung. Das deutsche Original:",
    "ar": "ترجمة آلية. ما كتبه الأخصائي الاجتماعي بالألمانية:",
    "ru": "Машинный перевод. Что социальный работник написал по-немецки:",
    "uk": "Машинний переклад. Що соціальний працівник написав німецькою:",
    "en": "Machine translation. What the social worker wrote in German:",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_resident_gets_translation_then_the_german_original(i18n, language):
    tr = i18n.translator(language)
    outcome = translated("Kommen Sie am 03.12.2026.", "TRANSLATION", "de", language, None)
    (message,) = presentation.for_resident(tr, outcome)
    assert message == (
        f"TRANSLATION\n\n🌐 <i>{EXPECTED_LABELS[language]}</i>\n\n"
        "<blockquote>Kommen Sie am 03.12.2026.</blockquote>"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_resident_label_is_translated(i18n, language):
    tr = i18n.translator(language)
    failed = Outcome(Status.FAILED, "Guten Tag", language, failure=Failure.TIMEOUT)
    (message,) = presentation.for_resident(tr, failed)
    assert message.endswith("\n\nGuten Tag")
    if language not in ("de", "en"):
        assert "translation" not in message.lower() and "Übersetzung" not in message
    incomplete = translated("x", "y", "de", language, None, complete=False)
    note = presentation.for_resident(tr, incomplete)[0]
    assert (language == "en") == ("Some details" in note)


def test_arabic_resident_reads_isolated_fragments(i18n):
    tr = i18n.translator("ar")
    text = f"الموعد في {FSI}03.12.2026{PDI}"
    (message,) = presentation.for_resident(tr, translated("Termin am 03.12.2026", text, "de", "ar"))
    assert message.startswith(text)


def test_raw_is_sent_as_written_and_receipts_tell_staff(i18n, staff):
    tr = i18n.translator("ar")
    raw = Outcome(Status.RAW, "Bitte <Ausweis> mitbringen", "ar", source="de")
    assert presentation.for_resident(tr, raw) == ["Bitte &lt;Ausweis&gt; mitbringen"]
    assert presentation.staff_receipt(staff, raw) == (
        "✉️ <i>Unübersetzt gesendet, genau wie geschrieben.</i>"
    )
    sent = translated("Guten Tag", "مرحبا", "de", "ar", None)
    assert presentation.staff_receipt(staff, sent) == (
        "🌐 <i>Maschinell ins Arabische übersetzt gesendet:</i>\n"
        "<blockquote expandable>مرحبا</blockquote>"
    )
    failed = Outcome(Status.FAILED, "Guten Tag", "ar", failure=Failure.QUOTA)
    assert presentation.staff_receipt(staff, failed) == (
        "⚠️ <i>Übersetzung fehlgeschlagen (Kontingent aufgebraucht): auf Deutsch gesendet,"
        " wie geschrieben.</i>"
    )
    assert presentation.staff_receipt(staff, Outcome(Status.OFF, "x", "ar")) is None


def test_caption_for_a_staff_photo_fits_or_moves_after_it(i18n):
    tr = i18n.translator("ru")
    short = presentation.resident_caption(
        tr, translated("Ihr Bescheid", "Ваше решение", "de", "ru")
    )
    assert short.follow_up == () and short.caption.startswith("Ваше решение")
    assert "<blockquote>Ihr Bescheid</blockquote>" in short.caption
    original = "Bitte lesen Sie den Bescheid. " * 30  # 900 characters: fits alone, not with more
    long = presentation.resident_caption(tr, translated(original, "Пожалуйста " * 100, "de", "ru"))
    assert long.caption == original and _length(long.caption) <= CAPTION_LIMIT
    assert long.follow_up and long.follow_up[0].startswith("Пожалуйста")


# -- the privacy notice ---------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "info",
    [
        ProviderInfo("libretranslate", "LibreTranslate", "translate.thinka.local"),
        ProviderInfo("deepl", "DeepL", "api-free.deepl.com"),
        ProviderInfo("openai", "OpenAI-compatible", "127.0.0.1", "llama3.1:8b"),
    ],
)
def test_privacy_paragraph_names_provider_and_what_is_sent(i18n, language, info):
    tr = i18n.translator(language)
    paragraph = presentation.privacy_paragraph(tr, info)
    assert info.host in paragraph and "/privacy" in paragraph
    if info.model:
        assert info.model in paragraph
    if info.kind == "deepl":
        assert "DeepL SE" in paragraph
    if language == "ar":
        assert f"{FSI}{info.host}{PDI}" in paragraph
    if language != "en":
        assert "Machine translation" not in paragraph
