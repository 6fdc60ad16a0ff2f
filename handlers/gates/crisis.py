"""Signs of acute danger get the emergency numbers at once, before anything else happens.

Runs in its own early group (after the resident is loaded, before the consent check): somebody
in danger gets help even before agreeing to anything, and nothing is stored for that. New
messages, edited ones and captions are read alike, and every message is answered once: an edit
of a message that already got the numbers, or the same update handled again, gets no second
answer (`Services.crisis_answered`, in memory). The case flow later marks the case urgent
(context.crisis); an edit marks the resident's open case urgent here, as no case flow follows.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode

from bot.core.logs import person
from handlers.shared import texts
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)


async def check(update: Update, context: BotContext) -> None:
    """Answer with the emergency numbers when a private message shows signs of danger."""
    message = update.message or update.edited_message
    if message is None or message.chat.type != message.chat.PRIVATE:
        return
    text = message.text or message.caption or ""
    if not text or text.startswith("/"):
        return
    services = context.services
    categories = services.crisis.categories(text)
    if not categories:
        return
    context.crisis = True
    resident = context.resident
    if update.edited_message is not None and resident is not None and resident.consented:
        case = await services.cases.current_open_case(resident)
        if case is not None:
            await services.cases.mark_urgent(case.id)
    answered = (message.chat.id, message.message_id)
    if answered in services.crisis_answered:
        return
    logger.warning(
        "possible emergency (%s) from %s",
        ",".join(sorted(categories)),
        person(message.from_user.id if message.from_user else None),
    )
    tr = context.tr
    await message.reply_text(
        "<b>{}</b>\n\n{}\n\n{}".format(
            tr._("Your safety comes first."),
            texts.emergency_numbers(tr, services.org),
            tr._("A social worker will read your message as soon as possible."),
        ),
        parse_mode=ParseMode.HTML,
    )
    # Only once it went out: a send that failed is tried again with the update.
    services.crisis_answered.add(answered)
