"""Groups that are not the staff group: the bot says once, in every language, that it works in a
private chat, with a button that opens it, and leaves.

A resident's debts or residence papers do not belong where neighbours read along, so nothing a
group says reaches a handler (the gate stops every group update after this). Staying silent in
the group would leave its members waiting for an answer that never comes; leaving also means
Telegram sends nothing more from there.
"""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.helpers import create_deep_linked_url

from bot.core.i18n import LANGUAGES, N_, I18n
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)

GROUP_NOTICE = N_(
    "Hello! I only answer in a private chat, so that what you tell us stays between you and us."
    " Please press the button below and write to me there. I am leaving this group now."
)
# The bot's own status that means it is (still) in the group.
_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})


async def explain_and_leave(update: Update, context: BotContext) -> None:
    """For any update from a group the bot is in: the notice, then leaveChat."""
    chat = update.effective_chat
    if chat is None or chat.type not in (Chat.GROUP, Chat.SUPERGROUP):
        return
    if not _shows_the_bot_in_the_group(update, context.bot.id):
        return
    username = context.bot.username
    try:
        await context.bot.send_message(
            chat.id,
            notice(context.services.i18n),
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(f"💬 @{username}", url=create_deep_linked_url(username))]]
            ),
        )
    except TelegramError as error:
        # No right to write (a restricted bot): leaving is still right.
        logger.info("group %s: the private-chat notice was not sent (%s)", chat.id, error.message)
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as error:
        logger.warning("group %s could not be left (%s)", chat.id, error.message)
        return
    logger.info("left group %s: only the staff group and private chats are served", chat.id)


def notice(i18n: I18n) -> str:
    """The notice in German first, then every other shipped language, one paragraph each."""
    return "\n\n".join(i18n.translator(language)._(GROUP_NOTICE) for language in LANGUAGES)


def _shows_the_bot_in_the_group(update: Update, bot_id: int) -> bool:
    change = update.my_chat_member
    if change is not None:
        # Added (or promoted): say it. Removed, or the bot's own leaving: nothing to say.
        member = change.new_chat_member
        return member.status in _PRESENT or (
            member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))
        )
    message = update.message
    if message is not None and any(user.id == bot_id for user in message.new_chat_members):
        return False  # the service message of the same joining: my_chat_member answered it
    # Anything else from a group means the bot is still there (added before it left groups).
    return update.effective_message is not None
