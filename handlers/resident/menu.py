"""The main menu and the information reachable from it: contact, office hours, help."""

from __future__ import annotations

from telegram import Update

from bot.core import callbacks
from handlers.resident import onboarding
from handlers.shared import keyboards, texts
from handlers.shared.common import respond
from handlers.shared.context import BotContext


async def menu(update: Update, context: BotContext) -> None:
    """/menu or the back button: the main menu."""
    await onboarding.show_main_menu(update, context)


async def contact(update: Update, context: BotContext) -> None:
    """Locations, phone numbers and office hours from the organisation data. From the privacy
    notice (menu:contact[:<link>]) the way back leads to the notice, with its deep link."""
    tr = context.tr
    if context.services.residents.needs_consent(context.resident):
        query = update.callback_query
        parts = (callbacks.MENU.parts(query.data) if query else None) or []
        back = keyboards.back_to_consent(tr, onboarding.link_reference(parts[1:]))
    else:
        back = keyboards.back_to_menu(tr)
    await respond(update, context, texts.contact(tr, context.services.org), back)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: emergency numbers first, then how the bot works. Works at any time."""
    await respond(
        update,
        context,
        texts.help_text(context.tr, context.services.org),
        keyboards.back_to_menu(context.tr),
    )


async def language(update: Update, context: BotContext) -> None:
    """/language or the menu button: the language chooser."""
    await onboarding.show_language_chooser(update, context)
