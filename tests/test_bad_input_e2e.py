"""Bad or unexpected input: a clear answer in the user's language (a group that is not the staff
group is told once where the bot works, and left), never a crash, nothing stored that should
not be."""

from __future__ import annotations

import logging

import pytest
from telegram.error import BadRequest

from bot.core.i18n import LANGUAGES
from handlers.gates.foreign_groups import GROUP_NOTICE
from handlers.shared.keyboards import MAIN_MENU

pytestmark = pytest.mark.usefixtures("bot")


async def test_a_sticker_gets_a_pointer_to_the_menu(bot, sandbox, consented):
    chat, t = await consented("ru")
    before = chat.seen()
    await sandbox.send_sticker(chat.user)
    answer = await sandbox.wait_for_message(chat.id, after=before)
    assert t._("I cannot use this here. Please choose in the menu what you need:") in answer.text
    assert answer.button_texts == [t._(label) for _, label in MAIN_MENU]
    assert await bot.cases.repo.current_for(chat.id) is None  # nothing stored


@pytest.mark.parametrize("kind", ["text", "long text", "photo", "voice", "document"])
async def test_free_input_is_kept_and_the_topic_asked(bot, sandbox, consented, kind):
    chat, t = await consented("de")
    before = chat.seen()
    if kind == "text":
        await sandbox.send_message(chat.user, "Hallo?")
    elif kind == "long text":
        await sandbox.send_message(chat.user, "x" * 4096)
    else:
        await getattr(sandbox, f"send_{kind}")(chat.user)
    answer = await sandbox.wait_for_message(chat.id, after=before)
    assert t._("What is your question about?") in answer.text
    case = await bot.cases.repo.current_for(chat.id)
    assert [m.kind for m in await bot.cases.repo.messages(case.id)] == [
        "text" if "text" in kind else kind
    ]


async def test_unknown_command(bot, chat_as, consented):
    chat, t = await consented("uk")
    answer = await chat.send("/frobnicate")
    assert t._("I do not know this command. Please use the menu:") in answer.text


@pytest.mark.parametrize(
    ("language", "text", "offered"),
    [
        ("de", "مرحبا، عندي رسالة من الـ Jobcenter", ["العربية"]),
        ("en", "Добрый день, мне пришла Mahnung", ["Русский", "Українська"]),
        ("de", "Добрий день, у мене є питання щодо їжі", ["Українська", "Русский"]),
    ],
)
async def test_text_in_another_script_offers_that_language(
    bot, chat_as, language, text, offered, consented
):
    chat, _t = await consented(language)
    answer = await chat.send(text)
    assert answer.button_texts[: len(offered)] == offered
    first = {"العربية": "ar", "Русский": "ru", "Українська": "uk"}[offered[0]]
    assert (
        bot.i18n.translator(first)._("Would you like to use the bot in %(language)s?")
        % {"language": offered[0]}
        in answer.text
    )
    switched = await chat.press(answer, offered[0])
    # The message was kept: the request goes on, now in the chosen language.
    assert bot.i18n.translator(first)._("What is your question about?") in switched.text
    case = await bot.cases.repo.current_for(chat.id)
    assert case.language == first
    assert [m.text for m in await bot.cases.repo.messages(case.id)] == [text]


async def test_mixed_script_in_the_residents_own_language_is_not_questioned(
    bot, chat_as, consented
):
    chat, t = await consented("ar")
    answer = await chat.send("عندي Mahnung من Jobcenter")
    assert t._("What is your question about?") in answer.text


async def test_forged_or_stale_button_data_does_nothing(bot, sandbox, chat_as, consented):
    chat, t = await consented("de")
    menu = sandbox.messages_to(chat.id)[-1]
    before = chat.seen()
    await sandbox.press_button(chat.user, menu, "staff:take:1", forge=True)
    answer = await sandbox.wait_for_message(chat.id, after=before)
    await sandbox.wait_for_idle()  # the press is answered beside the new message, not before
    assert sandbox.callback_answers[-1].get("text") == t._("This button is no longer active.")
    assert answer.button_texts == [t._(label) for _, label in MAIN_MENU]


async def test_edited_message_gets_an_explanation(bot, sandbox, chat_as, consented):
    chat, t = await consented("ar")
    sent = await sandbox.send_message(chat.user, "سؤال")
    await sandbox.wait_for_idle()
    before = chat.seen()
    await sandbox.edit_message(chat.user, sent, "سؤال آخر")
    answer = await sandbox.wait_for_message(chat.id, after=before)
    assert (
        t._("Changes to a message you already sent do not reach us. Please send a new message.")
        in answer.text
    )


@pytest.mark.parametrize("kind", ["group", "supergroup"])
async def test_a_foreign_group_is_told_once_in_every_language_and_left(bot, sandbox, chat_as, kind):
    member = chat_as("de")
    group = sandbox.add_group(
        title="Hausgemeinschaft", kind=kind, members={member.id: "member"}, bot_status="left"
    )
    await sandbox.add_bot_to_group(member.user, group)
    await sandbox.wait_for_idle()
    for text in ("/start", "Hallo Bot", "/delete"):
        await sandbox.send_message(member.user, text, chat=group)
    await sandbox.wait_for_idle()
    [notice] = sandbox.messages_to(group.id)
    paragraphs = notice.text.split("\n\n")
    assert paragraphs == [bot.i18n.translator(code)._(GROUP_NOTICE) for code in LANGUAGES]
    assert len(set(paragraphs)) == len(LANGUAGES)  # five languages, not German five times
    [[button]] = notice.buttons
    assert button["url"] == f"https://t.me/{sandbox.bot_username}"
    assert button["text"] == f"💬 @{sandbox.bot_username}"
    assert group.bot_status == "left"
    assert await bot.residents.find(member.id) is None  # nothing read from the group


async def test_a_group_the_bot_was_in_before_is_told_and_left_at_its_next_message(
    bot, sandbox, chat_as
):
    member = chat_as("de")
    group = sandbox.add_group(title="Nachbarn", members={member.id: "member"})
    await sandbox.send_message(member.user, "Hallo zusammen", chat=group)
    await sandbox.wait_for_idle()
    assert len(sandbox.messages_to(group.id)) == 1 and group.bot_status == "left"


async def test_removed_from_a_group_the_bot_says_nothing(bot, sandbox, chat_as):
    member = chat_as("de")
    group = sandbox.add_group(title="Nachbarn", members={member.id: "creator"})
    await sandbox.remove_bot_from_group(member.user, group)
    await sandbox.wait_for_idle()
    assert sandbox.messages_to(group.id) == []


async def test_an_error_is_logged_and_the_user_told_in_their_language(
    bot, chat_as, caplog, monkeypatch, consented
):
    chat, t = await consented("ru")
    original = bot.residents.find
    calls = {"n": 0}

    async def failing_once(user_id):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database on fire")
        return await original(user_id)

    monkeypatch.setattr(bot.residents, "find", failing_once)
    with caplog.at_level(logging.ERROR, logger="handlers.gates.errors"):
        answer = await chat.send("/menu")
    assert (
        t._("Sorry, something went wrong on our side. Please try again, or open the /menu.")
        in answer.text
    )
    assert any("database on fire" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    # The bot keeps serving.
    menu = await chat.send("/menu")
    assert t._("How can we help you? Please choose:") in menu.text


async def test_a_bad_request_is_logged_with_its_traceback(bot, consented, caplog, monkeypatch):
    # In python-telegram-bot BadRequest subclasses NetworkError: it must not pass as network noise.
    chat, _ = await consented("de")

    async def bad_request(user_id):
        raise BadRequest("Bad Request: chat not found")

    monkeypatch.setattr(bot.residents, "find", bad_request)
    with caplog.at_level(logging.WARNING, logger="handlers.gates.errors"):
        await chat.send("/menu")
    records = [r for r in caplog.records if r.name == "handlers.gates.errors"]
    assert records and records[0].levelno == logging.ERROR and records[0].exc_info
