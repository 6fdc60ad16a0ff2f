"""/privacy and /delete: what is stored, and erasing it after one confirmation."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import BotContext
from handlers import keyboards, texts
from handlers.common import respond

logger = logging.getLogger(__name__)


async def privacy(update: Update, context: BotContext) -> None:
    """/privacy: the stored data (if any) and the notice, with the delete button."""
    services = context.services
    notice = texts.privacy_notice(context.tr, services.org, services.settings.retention_days)
    if context.resident is not None:
        notice = texts.stored_data(context.tr, context.resident) + "\n\n" + notice
    await respond(update, context, notice, keyboards.privacy(context.tr))


async def ask_to_delete(update: Update, context: BotContext) -> None:
    """/delete or the button: confirm once before erasing."""
    await respond(
        update,
        context,
        context._(
            "Do you really want to delete all your data? Open requests can then no longer be "
            "answered. This cannot be undone."
        ),
        keyboards.confirm_delete(context.tr),
    )


async def delete(update: Update, context: BotContext) -> None:
    """Confirmed: erase the resident and say so in the language they used until now."""
    user = update.effective_user
    assert user is not None
    services = context.services
    open_cases = (
        [c for c in await services.cases.cases_of(context.resident) if c.is_open]
        if context.resident is not None
        else []
    )
    erased = await services.residents.erase(user.id)
    for case in open_cases:
        await services.relay.refresh_case(case.id)  # card says so, the topic closes
    logger.info("resident %s erased their data (found: %s)", user.id, erased)
    context.resident = None
    await respond(
        update,
        context,
        context._(
            "Your data has been deleted. If you write to us again, we start afresh: send /start."
        ),
    )


async def keep(update: Update, context: BotContext) -> None:
    """Deletion cancelled."""
    await respond(
        update,
        context,
        context._("Nothing was deleted.") + "\n\n" + texts.main_menu(context.tr),
        keyboards.main_menu(context.tr),
    )
