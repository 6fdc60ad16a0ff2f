"""Machine translation as a resident meets it through the real Application and the Bot API
sandbox, with a fake LibreTranslate on loopback: the privacy notice names the provider and is
asked for again, and /privacy turns translation of one's own messages off and on.
(The conversations themselves, translated both ways: tests/test_translation_relay_e2e.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.residents import service as resident_service
from bot.residents.repository import ResidentRepository
from bot.residents.service import ResidentService
from bot.sandbox.translators import FakeLibreTranslate
from tests.conftest import agree


@pytest.fixture
async def libre():
    async with FakeLibreTranslate() as fake:
        yield fake


@pytest.fixture
def settings(settings, libre):
    return replace(
        settings,
        translate_provider="libretranslate",
        translate_url=libre.url,
        translate_timeout=1.0,
    )


async def test_notice_names_the_provider_and_privacy_toggles_own_messages(bot, chat_as, libre):
    chat = chat_as("ar")
    t = bot.i18n.translator("ar")
    notice = await chat.send("/start")
    provider = t._("the translation service LibreTranslate at %(host)s") % {
        "host": t.isolate("127.0.0.1")
    }
    assert provider in notice.text
    await agree(chat, notice)
    resident = await bot.residents.find(chat.id)
    assert resident.consent_version == 1001  # notice 1 with provider number 1 (LibreTranslate)
    assert [r.path for r in libre.requests] == ["/languages"]  # the start-up check, no text

    privacy = await chat.send("/privacy")
    assert t._("Machine translation of your messages: on") in privacy.text
    off = await chat.press(privacy, t._("🌐 Do not translate my messages"))
    assert t._("Machine translation of your messages: off") in off.text
    assert not await bot.translation.own_messages(chat.id)
    on = await chat.press(off, t._("🌐 Translate my messages again"))
    assert t._("Your messages are machine-translated for the social workers again.") in on.text
    assert await bot.translation.own_messages(chat.id)


async def test_resident_who_agreed_before_translation_is_asked_again(bot, chat_as):
    chat = chat_as("ru")
    t = bot.i18n.translator("ru")
    await bot.db.execute(
        "INSERT INTO residents (user_id, chat_id, language, consent_at, consent_version)"
        " VALUES (?, ?, 'ru', '2026-11-01T10:00:00+00:00', 1)",
        (chat.id, chat.id),
    )
    again = await chat.send("/menu")
    assert t._("Do you agree?") in again.text and "LibreTranslate" in again.text
    await agree(chat, again)
    assert not bot.residents.needs_consent(await bot.residents.find(chat.id))


async def test_consent_is_asked_again_when_translation_or_its_provider_changes(
    db_residents, monkeypatch
):
    repo, clock = db_residents
    off = ResidentService(repo, clock)
    libre = ResidentService(repo, clock, translation_notice=1)
    deepl = ResidentService(repo, clock, translation_notice=2)
    await repo.set_language(7, 7, "uk")
    agreed_plain = await off.give_consent(7)
    assert agreed_plain.consent_version == 1
    assert not off.needs_consent(agreed_plain)
    assert libre.needs_consent(agreed_plain)  # translation turned on: the notice changed
    agreed_libre = await libre.give_consent(7)
    assert not libre.needs_consent(agreed_libre) and not off.needs_consent(agreed_libre)
    assert deepl.needs_consent(agreed_libre)  # another provider gets the text
    monkeypatch.setattr(resident_service, "PRIVACY_NOTICE_VERSION", 2)
    assert libre.needs_consent(agreed_libre) and off.needs_consent(agreed_libre)
    assert (await libre.give_consent(7)).consent_version == 1002


@pytest.fixture
async def db_residents(tmp_path, clock):
    from bot.core.db import Database

    db = await Database.open(tmp_path / "residents.sqlite3")
    await db.migrate()
    yield ResidentRepository(db), clock
    await db.close()
