"""/privacy and /delete end to end, blocking, and the anonymous counts that survive deletion."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_ID

pytestmark = pytest.mark.usefixtures("bot")


async def test_privacy_shows_what_is_stored(bot, chat_as, consented):
    chat, t = await consented("de")
    privacy = await chat.send("/privacy")
    assert t._("What we have stored about you") in privacy.text
    assert str(chat.id) in privacy.text
    assert "Deutsch" in privacy.text
    assert "1. Dezember 2026" in privacy.text  # consent date from the test clock, in German
    assert t._("🗑 Delete my data") in privacy.button_texts


async def test_delete_asks_once_then_erases_and_next_start_begins_afresh(bot, chat_as, consented):
    chat, t = await consented("ar")
    question = await chat.send("/delete")
    assert t._("🗑 Yes, delete everything") in question.button_texts
    assert await bot.residents.find(chat.id) is not None  # asking deletes nothing
    done = await chat.press(question, t._("🗑 Yes, delete everything"))
    assert (
        t._("Your data has been deleted. If you write to us again, we start afresh: send /start.")
        in done.text
    )
    assert await bot.residents.find(chat.id) is None
    again = await chat.send("/start")
    assert t._("Do you agree?") in again.text  # consent is asked again


async def test_keeping_the_data_deletes_nothing(bot, chat_as, consented):
    chat, t = await consented("ru")
    question = await chat.send("/delete")
    kept = await chat.press(question, t._("↩️ No, keep my data"))
    assert t._("Nothing was deleted.") in kept.text
    assert (await bot.residents.find(chat.id)).consented


async def test_delete_button_from_the_privacy_page(bot, chat_as, consented):
    chat, t = await consented("uk")
    privacy = await chat.send("/privacy")
    question = await chat.press(privacy, t._("🗑 Delete my data"))
    await chat.press(question, t._("🗑 Yes, delete everything"))
    assert await bot.residents.find(chat.id) is None


async def test_counts_survive_deletion_and_only_staff_see_them(bot, chat_as, consented):
    chat, t = await consented("ar")
    question = await chat.send("/delete")
    await chat.press(question, t._("🗑 Yes, delete everything"))
    # A resident asking for /stats learns nothing, not even that the command exists.
    resident, _ = await consented("de")
    answer = await resident.send("/stats")
    assert bot.i18n.translator("de")._("I do not know this command. Please use the menu:") in (
        answer.text
    )
    admin = chat_as("de", user_id=ADMIN_ID)
    stats = await admin.send("/stats")
    assert "2026-12 · العربية: 1" in stats.text
    assert "2026-12 · Deutsch: 1" in stats.text


async def test_blocking_the_bot_is_remembered(bot, sandbox, chat_as, consented):
    chat, _ = await consented("de")
    await sandbox.block_bot(chat.user)
    await sandbox.wait_for_idle()
    assert (await bot.residents.find(chat.id)).blocked
    await sandbox.unblock_bot(chat.user)
    await sandbox.wait_for_idle()
    assert not (await bot.residents.find(chat.id)).blocked
