"""A resident blocking or unblocking the bot (my_chat_member in the private chat)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.core.i18n import STAFF_LANGUAGE
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)


async def bot_membership_changed(update: Update, context: BotContext) -> None:
    """Remember who blocked the bot so that nothing keeps trying to reach them."""
    change = update.my_chat_member
    if change is None or context.resident is None:
        return
    blocked = change.new_chat_member.status == ChatMember.BANNED
    services = context.services
    await services.residents.mark_blocked(change.from_user.id, blocked)
    for case in await services.cases.resident_blocked(change.from_user.id, blocked):
        await services.relay.refresh_case(case.id)
        if blocked:
            await services.relay.tell_staff(
                case,
                "⚠️ "
                + services.i18n.translator(STAFF_LANGUAGE)._(
                    "The resident has blocked the bot: replies cannot be delivered."
                ),
            )
    logger.info(
        "resident %s %s the bot", change.from_user.id, "blocked" if blocked else "unblocked"
    )
