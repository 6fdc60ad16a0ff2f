"""Signs of acute danger get the emergency numbers at once, before anything else happens.

Runs in its own early group (after the resident is loaded, before the consent check): somebody
in danger gets help even before agreeing to anything, and nothing is stored for that. The case
flow later marks the case urgent (context.crisis).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from handlers.shared import texts
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)


async def check(update: Update, context: BotContext) -> None:
    """Answer with the emergency numbers when a private message shows signs of danger."""
    message = update.message
    if message is None or message.chat.type != message.chat.PRIVATE:
        return
    text = message.text or message.caption or ""
    if not text or text.startswith("/"):
        return
    categories = context.services.crisis.categories(text)
    if not categories:
        return
    context.crisis = True
    logger.warning(
        "possible emergency (%s) from user %s",
        ",".join(sorted(categories)),
        message.from_user.id if message.from_user else None,
    )
    tr = context.tr
    await message.reply_text(
        "<b>{}</b>\n\n{}\n\n{}".format(
            tr._("Your safety comes first."),
            texts.emergency_numbers(tr, context.services.org),
            tr._("A social worker will read your message as soon as possible."),
        ),
        parse_mode=ParseMode.HTML,
    )
