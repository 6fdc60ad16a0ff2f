"""The main menu and the information reachable from it: contact, office hours, help."""

from __future__ import annotations

from telegram import Update

from handlers.resident import onboarding
from handlers.shared import keyboards, texts
from handlers.shared.common import respond
from handlers.shared.context import BotContext


async def menu(update: Update, context: BotContext) -> None:
    """/menu or the back button: the main menu."""
    await onboarding.show_main_menu(update, context)


async def contact(update: Update, context: BotContext) -> None:
    """Locations, phone numbers and office hours from the organisation data."""
    await respond(
        update,
        context,
        texts.contact(context.tr, context.services.org),
        keyboards.back_to_menu(context.tr),
    )


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
