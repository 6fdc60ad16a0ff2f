"""Membership changes: a resident blocking or unblocking the bot (my_chat_member in the private
chat), and somebody leaving the staff group (chat_member there)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from bot.core.i18n import N_, STAFF_LANGUAGE
from bot.core.logs import person
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
                key=f"blocked:{case.id}",  # blocked again after an unblock: told again
                label=N_("the notice that the resident blocked the bot"),
            )
    logger.info(
        "resident %s %s the bot", person(change.from_user.id), "blocked" if blocked else "unblocked"
    )


# A status in the staff group that no longer makes somebody staff.
GONE = frozenset({ChatMember.LEFT, ChatMember.BANNED})


async def staff_membership_changed(update: Update, context: BotContext) -> None:
    """chat_member in the staff group: whoever left, was removed or restricted out of it loses
    staff rights now, not when a cached answer runs out."""
    change = update.chat_member
    services = context.services
    if change is None or change.chat.id != services.settings.staff_chat_id:
        return
    member = change.new_chat_member
    services.staff.forget(member.user.id)
    still_in = member.status not in GONE and (
        member.status != ChatMember.RESTRICTED or getattr(member, "is_member", False)
    )
    if not still_in:
        logger.info("%s left the staff group: staff rights ended", person(member.user.id))
