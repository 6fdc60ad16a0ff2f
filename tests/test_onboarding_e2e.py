"""A resident's first minute, end to end: the real Application polls the sandbox over HTTP."""

from __future__ import annotations

import pytest

from bot.core.i18n import FSI, LANGUAGE_NAMES, LANGUAGES
from handlers.shared.keyboards import MAIN_MENU
from tests.conftest import ADMIN_ID, agree, eventually

pytestmark = pytest.mark.usefixtures("bot")


def tr(bot, language):
    return bot.i18n.translator(language)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_start_uses_telegrams_language_then_consent_then_menu(bot, chat_as, language):
    t = tr(bot, language)
    chat = chat_as(language)
    notice = await chat.send("/start")
    assert t._("Do you agree?") in notice.text
    assert t._("Data protection") in notice.text
    assert notice.button_texts[0] == t._("✅ I agree")

    # Asked once, right after consent: announcements are opt-in, never a default.
    opt_in = await chat.press(notice, t._("✅ I agree"))
    assert t._("No, thank you") in opt_in.button_texts
    assert "🔔 Berliner Platz" in opt_in.button_texts and "🔔 Rieth" in opt_in.button_texts
    assert await bot.events.subscriptions(chat.id) == set()
    menu = await chat.press(opt_in, t._("No, thank you"))
    assert t._("How can we help you? Please choose:") in menu.text
    assert menu.button_texts == [t._(label) for _, label in MAIN_MENU]
    resident = await bot.residents.find(chat.id)
    assert resident.language == language and resident.consented


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_reads_differently(bot, language):
    # Guards the test above: a catalog that silently returned German would pass it for "de" only.
    others = {tr(bot, code)._("Do you agree?") for code in LANGUAGES if code != language}
    assert tr(bot, language)._("Do you agree?") not in others


@pytest.mark.parametrize("language_code", ["fr", None, "pt-br"])
async def test_unsupported_language_gets_the_chooser_and_stores_nothing(
    bot, chat_as, language_code
):
    chat = chat_as(language_code)
    chooser = await chat.send("/start")
    assert chooser.button_texts == [LANGUAGE_NAMES[code] for code in LANGUAGES]
    for code in LANGUAGES:  # the request is written in every language
        assert tr(bot, code)._("Please choose your language.") in chooser.text
    assert await bot.residents.find(chat.id) is None


async def test_chooser_stores_only_id_chat_and_language_before_consent(bot, chat_as):
    chat = chat_as("fr")
    chooser = await chat.send("/start")
    notice = await chat.press(chooser, "العربية")
    assert tr(bot, "ar")._("Do you agree?") in notice.text
    row = await bot.db.fetchone("SELECT * FROM residents WHERE user_id = ?", (chat.id,))
    # Only schema defaults (0 flags, NULL) beyond the three things we may keep before consent.
    filled = {key for key in row.keys() if row[key] not in (None, 0)}
    assert filled == {"user_id", "chat_id", "language"}
    assert row["language"] == "ar"


async def test_anything_before_consent_leads_back_to_the_notice(bot, chat_as):
    chat = chat_as("ru")
    await chat.send("/start")
    again = await chat.send("Здравствуйте, у меня вопрос")
    assert tr(bot, "ru")._("Do you agree?") in again.text
    menu_attempt = await chat.send("/menu")
    assert tr(bot, "ru")._("Do you agree?") in menu_attempt.text
    assert not (await bot.residents.find(chat.id)).consented


async def test_help_works_before_consent_with_every_emergency_number(bot, chat_as):
    chat = chat_as("uk")
    help_message = await chat.send("/help")
    for number in (
        "110",
        "112",
        "116 117",
        "0800 111 0 111",
        "116 016",
        "116 111",
        "0800 40 40 020",
    ):
        assert number in help_message.text
    assert tr(bot, "uk")._("In an emergency, call – free of charge:") in help_message.text
    assert await bot.residents.find(chat.id) is None  # reading help stores nothing


async def test_language_can_be_changed_at_any_time(bot, chat_as):
    chat = chat_as("de")
    notice = await chat.send("/start")
    await agree(chat, notice)
    chooser = await chat.send("/language")
    menu = await chat.press(chooser, "Русский")
    assert tr(bot, "ru")._("How can we help you? Please choose:") in menu.text
    assert (await bot.residents.find(chat.id)).language == "ru"
    later = await chat.send("/menu")
    assert tr(bot, "ru")._("How can we help you? Please choose:") in later.text


async def at_menu(bot, chat_as, language):
    chat = chat_as(language)
    notice = await chat.send("/start")
    menu = await agree(chat, notice)
    return chat, menu


async def test_contact_shows_both_locations_without_placeholders(bot, chat_as):
    chat, menu = await at_menu(bot, chat_as, "de")
    contact = await chat.press(menu, tr(bot, "de")._("📍 Contact and opening hours"))
    assert "Th.INKA Berliner Platz" in contact.text and "Th.INKA Rieth" in contact.text
    assert tr(bot, "de")._("Office hours will be published here soon.") in contact.text
    assert "TODO" not in contact.text
    back = await chat.press(contact, tr(bot, "de")._("⬅️ Back to the menu"))
    assert back.button_texts == [tr(bot, "de")._(label) for _, label in MAIN_MENU]


async def test_arabic_keeps_numbers_and_names_in_isolates(bot, chat_as):
    chat, menu = await at_menu(bot, chat_as, "ar")
    help_message = await chat.press(menu, tr(bot, "ar")._("🆘 Help and emergency numbers"))
    assert f"{FSI}110\u2069" in help_message.text
    contact = await chat.send("/menu")
    contact = await chat.press(contact, tr(bot, "ar")._("📍 Contact and opening hours"))
    assert f"{FSI}Th.INKA Rieth\u2069" in contact.text


async def test_command_menus_are_set_per_language_and_scope(bot, sandbox, chat_as):
    private = {"type": "all_private_chats"}
    for language in LANGUAGES:
        commands = sandbox.commands(scope=private, language_code=language)
        assert [c["command"] for c in commands] == [
            "menu",
            "mycases",
            "appointments",
            "events",
            "unsubscribe",
            "help",
            "language",
            "privacy",
            "mydata",
            "delete",
            "start",
        ]
        assert commands[5]["description"] == tr(bot, language)._("Help and emergency numbers")
    assert sandbox.commands(scope=private)[0]["description"] == tr(bot, "de")._("Main menu")
    # Staff get their own menu in their own chat once Telegram knows that chat.
    admin = chat_as("de", user_id=ADMIN_ID)
    await admin.send("/start")
    staff_commands = sandbox.commands(scope={"type": "chat", "chat_id": ADMIN_ID})
    assert "stats" in [c["command"] for c in staff_commands]
    assert "stats" not in [c["command"] for c in sandbox.commands(scope=private)]


async def test_nothing_but_id_chat_and_language_is_stored_before_consent_even_when_sends_fail(
    bot, sandbox, chat_as
):
    """Issue 14, finding 6: when the privacy notice could not be sent, the update went on and a
    forged "topic" press stored a draft with first name, topic and district."""
    chat = chat_as("de", "Zyxwana")
    notice = await chat.send("/start")  # the notice, and the row: id, chat, language
    for method in ("sendMessage", "editMessageText", "answerCallbackQuery", "sendDocument"):
        sandbox.fail_next(method, status=500, times=100)  # a bad day at Telegram from now on
    for data in ("menu:ask", "req:topic:debt", "req:district:1", "ev:optin:all", "ap:start"):
        await sandbox.press_button(chat.user, notice, data, forge=True)
        await sandbox.wait_for_idle()
    await sandbox.send_message(chat.user, "Schulden bei Frau Zyxwvut")
    await sandbox.send_photo(chat.user, caption="Brief vom Jobcenter")
    await sandbox.send_message(chat.user, "/mycases")
    await sandbox.wait_for_idle()
    tables = [
        row[0]
        for row in await bot.db.fetchall(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        rows = [dict(row) for row in await bot.db.fetchall(f"SELECT * FROM {table}")]
        if table == "residents":
            assert rows == [
                {
                    "user_id": chat.id,
                    "chat_id": chat.id,
                    "language": "de",
                    "district": None,
                    "consent_at": None,
                    "consent_version": None,
                    "last_seen_at": None,
                    "blocked": 0,
                    "announcements_asked": 0,
                }
            ]
        elif table == "inbox":  # handled updates keep no content
            assert [row["payload"] for row in rows] == [None] * len(rows)
        elif table != "schema_version":
            assert rows == [], table


async def test_a_lone_slash_before_consent_gets_the_notice_not_an_error(bot, chat_as, caplog):
    """The consent gate read "/" as a command and failed on it (IndexError); a failing gate
    now stops the update, so it must not fail on what people type."""
    chat = chat_as("de")
    await chat.send("/start")
    answer = await chat.send("/")
    assert tr(bot, "de")._("Do you agree?") in answer.text
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


async def test_a_button_press_telegram_no_longer_takes_an_answer_for_still_gets_its_edit(
    bot, sandbox, chat_as
):
    """The answer to a button press only stops its spinner, and Telegram takes it for a short
    while only ("query is too old", e.g. for a press handled after a restart). Before, that
    refusal failed the handler: the resident's press did nothing."""
    t = tr(bot, "de")
    chat = chat_as("de")
    notice = await chat.send("/start")
    sandbox.callback_answer_timeout = 0.0  # every answer comes too late
    edits = notice.edits
    await sandbox.press_button(chat.user, notice, notice.callback_data(t._("✅ I agree")))

    async def edited():
        messages = sandbox.messages_to(chat.user.id)
        [current] = [m for m in messages if m.message_id == notice.message_id]
        return current if current.edits > edits else None

    opt_in = await eventually(edited)
    assert t._("No, thank you") in opt_in.button_texts
    await sandbox.wait_for_idle()
    assert sandbox.callback_answers == []  # refused, as Telegram does
