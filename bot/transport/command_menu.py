"""The "/" command menus: per language for residents, with staff commands for staff chats.

Telegram picks the most specific scope: a staff member's own chat (BotCommandScopeChat) beats all
private chats, and within a scope the user's language beats the default list.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import BadRequest, TelegramError

from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, I18n

logger = logging.getLogger(__name__)

RESIDENT_COMMANDS = (
    ("menu", N_("Main menu")),
    ("mycases", N_("My requests")),
    ("appointments", N_("My appointments")),
    ("events", N_("Events and announcements")),
    ("unsubscribe", N_("No more announcements")),
    ("help", N_("Help and emergency numbers")),
    ("language", N_("Change the language")),
    ("privacy", N_("Data protection and your data")),
    ("mydata", N_("Everything stored about me")),
    ("delete", N_("Delete my data")),
    ("start", N_("Start again")),
)
STAFF_COMMANDS = (
    ("queue", N_("Open cases: urgent, nearest deadline, oldest")),
    ("stats", N_("Figures: residents reached")),
    ("audit", N_("Staff actions (admins)")),
    ("closed", N_("Close a day for appointments: /closed YYYY-MM-DD")),
    ("newevent", N_("Write and publish an event")),
    ("broadcast", N_("Notice to subscribers")),
    ("cancel", N_("Discard what is being written")),
    ("reload", N_("Reload the quick answers and the Wegweiser")),
)
# Inside a case's topic in the staff group.
STAFF_GROUP_COMMANDS = (
    ("take", N_("Take this case")),
    ("note", N_("Internal note, never sent to the resident")),
    ("t", N_("Canned reply in the resident's language: /t KEY")),
    ("frist", N_("Correct the letter's deadline: /frist DD.MM.YYYY, or /frist - to remove it")),
    ("close", N_("Close this case")),
    ("reopen", N_("Reopen this case")),
)


def commands_for(i18n: I18n, language: str, *, staff: bool = False) -> list[BotCommand]:
    tr = i18n.translator(language)
    entries = RESIDENT_COMMANDS + (STAFF_COMMANDS if staff else ())
    return [BotCommand(name, tr._(description)) for name, description in entries]


async def install_command_menus(
    bot: Bot, i18n: I18n, admin_ids: frozenset[int], staff_chat_id: int | None = None
) -> None:
    """Resident menus for every language (German for all others); staff menus for the admins
    and the staff group."""
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(commands_for(i18n, DEFAULT_LANGUAGE), scope=scope)
    for language in LANGUAGES:
        await bot.set_my_commands(commands_for(i18n, language), scope=scope, language_code=language)
    for admin_id in sorted(admin_ids):
        await install_staff_menu(bot, i18n, admin_id, DEFAULT_LANGUAGE)
    if staff_chat_id is not None:
        tr = i18n.translator(DEFAULT_LANGUAGE)
        try:
            await bot.set_my_commands(
                [BotCommand(name, tr._(text)) for name, text in STAFF_GROUP_COMMANDS],
                scope=BotCommandScopeChat(staff_chat_id),
            )
        except TelegramError as exc:
            logger.error("staff group %s not reachable: %s", staff_chat_id, exc.message)


async def install_staff_menu(bot: Bot, i18n: I18n, chat_id: int, language: str) -> None:
    try:
        await bot.set_my_commands(
            commands_for(i18n, language, staff=True), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as exc:
        if isinstance(exc, BadRequest) and "chat not found" in exc.message.lower():
            # Telegram knows a private chat only once the person has written to the bot: an
            # admin who never did is normal, not a fault; the menu is set at their first /start.
            logger.info("staff command menu for chat %s waits for their /start", chat_id)
            return
        logger.warning("staff command menu for chat %s not set: %s", chat_id, exc.message)
