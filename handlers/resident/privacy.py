"""/privacy and /delete: what is stored, and erasing it after one confirmation."""

from __future__ import annotations

import json
import logging

from telegram import InputFile, Update

from bot.core import callbacks
from bot.core.logs import person
from handlers.shared import keyboards, texts
from handlers.shared.common import respond
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)


async def privacy(update: Update, context: BotContext, *, first: str | None = None) -> None:
    """/privacy: the stored data (if any) and the notice, with the delete button and, with
    machine translation on, the choice whether the resident's own messages are translated."""
    services = context.services
    tr = context.tr
    translation = services.translation
    notice = texts.privacy_notice(
        tr, services.org, services.settings.retention_days, translation.info
    )
    own = None
    if context.resident is not None:
        stored = texts.stored_data(tr, context.resident)
        if translation.enabled:
            own = await translation.own_messages(context.resident.user_id)
            stored += "\n• " + (
                tr._("Machine translation of your messages: on")
                if own
                else tr._("Machine translation of your messages: off")
            )
        notice = stored + "\n\n" + notice
    if first:
        notice = f"<b>{first}</b>\n\n{notice}"
    await respond(update, context, notice, keyboards.privacy(tr, own))


async def toggle_translation(update: Update, context: BotContext) -> None:
    """The button under /privacy: translate the resident's own messages, or not."""
    query = update.callback_query
    parts = callbacks.PRIVACY.parts(query.data if query else None) or []
    services = context.services
    if context.resident is None or not services.translation.enabled or len(parts) != 2:
        await privacy(update, context)
        return
    enabled = parts[1] == "on"
    await services.translation.set_own_messages(context.resident.user_id, enabled)
    logger.info(
        "resident %s: translation of own messages %s",
        context.resident.user_id,
        "on" if enabled else "off",
    )
    tr = context.tr
    first = (
        tr._("Your messages are machine-translated for the social workers again.")
        if enabled
        else tr._(
            "Your messages are no longer sent for machine translation. The social workers see "
            "them as you wrote them."
        )
    )
    await privacy(update, context, first=first)


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
    cases = await services.cases.cases_of(context.resident) if context.resident else []
    erased = await services.erasure.erase(user.id)
    for case in cases:
        # The copies of their messages in the staff group go with the topic; where Telegram
        # refuses, the card says the data was deleted and the topic is closed.
        if not await services.relay.delete_topic(case.thread_id):
            await services.relay.refresh_case(case.id)
    logger.info(
        "%s erased their data (found: %s, WAL emptied: %s)",
        person(user.id),
        erased.found,
        erased.wiped,
    )
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


async def my_data(update: Update, context: BotContext) -> None:
    """/mydata: everything stored about the resident, readable and as a JSON file."""
    user = update.effective_user
    message = update.effective_message
    assert user is not None and message is not None
    data = await context.services.personal_data.export(user.id)
    tr = context.tr
    if data is None:
        await message.reply_text(tr._("We have no data about you."))
        return
    lines = [texts.stored_data(tr, context.resident)] if context.resident else []
    lines.append(
        tr.ngettext("%(count)d request", "%(count)d requests", len(data["cases"]))
        % {"count": len(data["cases"])}
    )
    lines.append(
        tr.ngettext("%(count)d message", "%(count)d messages", len(data["messages"]))
        % {"count": len(data["messages"])}
    )
    lines.append(
        tr.ngettext("%(count)d appointment", "%(count)d appointments", len(data["appointments"]))
        % {"count": len(data["appointments"])}
    )
    if data["letters_read"]:
        lines.append(
            tr.ngettext(
                "%(count)d letter read by the bot",
                "%(count)d letters read by the bot",
                len(data["letters_read"]),
            )
            % {"count": len(data["letters_read"])}
        )
    if data["subscriptions"]:
        lines.append(
            tr._("Announcements for: %(districts)s")
            % {"districts": ", ".join(row["district"] for row in data["subscriptions"])}
        )
    lines.append(tr._("The file below contains all of it, including your messages."))
    await message.reply_text(
        "\n".join(lines), parse_mode="HTML", reply_markup=keyboards.privacy(tr)
    )
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await message.reply_document(InputFile(payload, filename="meine-daten.json"))
