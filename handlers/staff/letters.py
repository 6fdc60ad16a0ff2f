"""Staff and the deadline the bot read from a letter: correct it or clear it with one command
(/frist 20.12.2026, /frist - in the case's topic; /frist 12 20.12.2026 in a private chat) or the
"remove" button under the reading. Audited; the case card and /queue follow at once."""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.constants import ParseMode

from bot.cases.service import CaseError
from bot.core import callbacks
from bot.core.i18n import STAFF_LANGUAGE, Translator
from bot.letters.notices import staff_deadline_set
from bot.text.german_dates import REASON_NO_TIME, REASON_PAST, Parsed, parse_german_datetime
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id
from handlers.staff.commands import staff_only

PREFIX = callbacks.LETTERS.prefix
# "/frist -" clears; so do a few words staff might type instead.
CLEAR = frozenset({"-", "–", "—", "keine", "löschen", "loeschen"})


def _tr(context: BotContext) -> Translator:
    return context.services.i18n.translator(STAFF_LANGUAGE)


@staff_only
async def deadline(update: Update, context: BotContext) -> None:
    """/frist DATE or /frist - in a case's topic; /frist CASE DATE or /frist CASE - elsewhere."""
    message = update.effective_message
    assert message is not None and update.effective_user is not None
    services = context.services
    tr = _tr(context)
    args = list(context.args or [])
    if message.chat_id == services.settings.staff_chat_id:
        thread = message.message_thread_id if message.is_topic_message else None
        case = await services.cases.by_thread(thread) if thread else None
        if case is None:
            await message.reply_text(
                tr._("This topic does not belong to a case. Use the command inside a case's topic.")
            )
            return
        case_id: int | None = case.id
    else:
        case_id = parse_id(args.pop(0).lstrip("#")) if args else None
    if case_id is None or not args:
        await message.reply_text(
            tr._(
                "Write the deadline after the command: /frist DD.MM.YYYY, or /frist - to remove "
                "it. In a private chat, the case number first: /frist 12 DD.MM.YYYY."
            )
        )
        return
    text = " ".join(args)
    due = None if text.lower() in CLEAR else _day(text, context)
    if isinstance(due, str):
        await message.reply_text("⚠️ " + due)
        return
    try:
        case = await services.letters.set_deadline(case_id, update.effective_user.id, due)
    except CaseError as error:
        await message.reply_text("⚠️ " + str(error))
        return
    await services.relay.refresh_case(case.id)
    await message.reply_text(staff_deadline_set(tr, case), parse_mode=ParseMode.HTML)


def _day(text: str, context: BotContext) -> date | str:
    """The day staff typed (German: 20.12.2026, 20.12., morgen, Freitag), or why not."""
    services = context.services
    tr = _tr(context)
    tz = services.settings.timezone
    result = parse_german_datetime(text, services.clock.now(), tz)
    if isinstance(result, Parsed):
        return result.when.astimezone(tz).date()
    if result.reason == REASON_NO_TIME and result.date_understood is not None:
        return result.date_understood.date()
    if result.reason == REASON_PAST:
        return tr._("That day is in the past. Please give the deadline from today on.")
    return tr._("I could not read that date. Please write it like 20.12.2026.")


@staff_only
async def button(update: Update, context: BotContext) -> None:
    """lt:clear:<case>: the deadline under a reading is wrong; remove it."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    parts = callbacks.LETTERS.parts(query.data) or []
    case_id = parse_id(parts[1]) if len(parts) == 2 and parts[0] == "clear" else None
    if case_id is None:
        await query.answer()
        return
    tr = _tr(context)
    try:
        case = await context.services.letters.set_deadline(case_id, update.effective_user.id, None)
    except CaseError as error:
        await query.answer(str(error), show_alert=True)
        return
    await query.answer("🗑")
    await context.services.relay.refresh_case(case.id)
    message = query.message
    if message is not None and message.is_accessible:
        await query.edit_message_reply_markup(None)
        await context.bot.send_message(
            message.chat.id,
            staff_deadline_set(tr, case),
            parse_mode=ParseMode.HTML,
            message_thread_id=message.message_thread_id if message.is_topic_message else None,
        )
