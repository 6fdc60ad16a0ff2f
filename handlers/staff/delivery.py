"""Staff decide what the courier could not: the buttons under its reports.

- "🔁 Send again" under a delivery Telegram never confirmed (out:again:<row>): it may have
  arrived, so only a person may decide to risk a second copy.
- "🔁 Send again to these N" under a finished broadcast (out:batch:<broadcast>).
- "📎 Copy the files here" under a digest of a resident's messages (out:files:<row>).
Staff only, checked per press: callback data can be forged anywhere.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.core.callbacks import OUTGOING
from bot.core.i18n import STAFF_LANGUAGE
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id
from handlers.staff.commands import staff_only

logger = logging.getLogger(__name__)

PATTERN = OUTGOING.pattern


@staff_only
async def button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    parts = OUTGOING.parts(query.data) or []
    target = parse_id(parts[1]) if len(parts) == 2 else None
    if target is None:
        await query.answer()
        return
    services = context.services
    tr = services.i18n.translator(STAFF_LANGUAGE)
    action = parts[0]
    if action == "again":
        done = await services.courier.send_again([target])
        line = "🔁 " + tr._("Sent again.") if done else None
        toast = None if done else tr._("This was sent again already.")
    elif action == "batch":
        done = await services.broadcasts.send_again(target)
        line = None  # the progress message shows it as it goes
        toast = (
            tr.ngettext("Sent again to %(count)d.", "Sent again to %(count)d.", done)
            % {"count": done}
            if done
            else tr._("This was sent again already.")
        )
    elif action == "files":
        done = await services.relay.copy_files(target)
        line = (
            "📎 "
            + tr.ngettext(
                "%(count)d file is being copied.", "%(count)d files are being copied.", done
            )
            % {"count": done}
            if done
            else None
        )
        toast = None if done else tr._("Nothing to copy.")
    else:
        await query.answer()
        return
    await query.answer(toast)
    if line is not None and query.message is not None:
        text = getattr(query.message, "text", None) or ""
        try:
            # The line stays as a record of what was decided; its button is used up.
            await query.edit_message_text(f"{text}\n{line}", reply_markup=None)
        except TelegramError:
            logger.info("report message not updated")
    audit = {"again": "send_again", "batch": "broadcast_again", "files": "digest_files"}[action]
    if update.effective_user is not None and done:
        await services.cases.audit(update.effective_user.id, audit, None)
