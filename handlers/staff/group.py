"""The staff group: one forum topic per case. Staff write in a case's topic and it reaches the
resident; /note stays internal; /take, /close, /reopen and /t KEY act on that case.

Registered only for THINKA_STAFF_CHAT_ID (the chat filter is applied once, in `handlers()`), and
every callback checks that the person is staff: the card buttons' data could be forged anywhere.
"""

from __future__ import annotations

import logging
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReactionTypeEmoji, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.cases.cards import CASE_PREFIX
from bot.cases.repository import Case
from bot.cases.service import CaseError, Incoming
from bot.core import callbacks
from bot.core.i18n import STAFF_LANGUAGE
from handlers.shared import fallback
from handlers.shared.common import incoming
from handlers.shared.context import BotContext
from handlers.shared.user_input import LEADING, parse_id, typed_command
from handlers.staff.appointments import closed_day
from handlers.staff.commands import staff_only

logger = logging.getLogger(__name__)


# Starts with "/" (maybe after invisible characters), in a text or a caption: a command,
# whether or not the client marked it as one. Such a message is never an answer.
COMMAND_LIKE = filters.Regex(rf"^[{LEADING}]*/") | filters.CaptionRegex(rf"^[{LEADING}]*/")


def handlers(staff_chat_id: int) -> list[BaseHandler]:
    in_group = filters.Chat(staff_chat_id) & filters.UpdateType.MESSAGE
    return [
        CommandHandler("take", take, filters=in_group),
        CommandHandler("close", close, filters=in_group),
        CommandHandler("reopen", reopen, filters=in_group),
        CommandHandler("note", note, filters=in_group),
        CommandHandler("t", template, filters=in_group),
        # The same commands as a photo's or document's caption, or not marked by the client.
        MessageHandler(in_group & COMMAND_LIKE, command_in_any_form),
        # Any other message in a case topic is an answer for the resident.
        MessageHandler(
            in_group & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            answer,
        ),
        # An edit does not change the copy the resident already has: say so in the topic.
        MessageHandler(
            filters.Chat(staff_chat_id)
            & filters.UpdateType.EDITED_MESSAGE
            & filters.IS_TOPIC_MESSAGE,
            edited,
        ),
        # Everything else in the staff group (the General topic, service messages) is the
        # team's own conversation: the bot stays out of it.
        MessageHandler(filters.Chat(staff_chat_id), ignore),
    ]


def card_button_handler() -> CallbackQueryHandler:
    return CallbackQueryHandler(card_button, pattern=rf"^{CASE_PREFIX}")


async def ignore(update: Update, context: BotContext) -> None:
    """Staff talking among themselves."""


async def _case_here(update: Update, context: BotContext) -> Case | None:
    """The case whose topic this message is in; says so when there is none."""
    message = update.effective_message
    assert message is not None
    thread = message.message_thread_id if message.is_topic_message else None
    case = await context.services.cases.by_thread(thread) if thread else None
    if case is None:
        await message.reply_text(
            context.services.i18n.translator(STAFF_LANGUAGE)._(
                "This topic does not belong to a case. Use the command inside a case's topic."
            )
        )
    return case


def _staff_tr(context: BotContext):
    # The staff group is one shared room: it speaks German, whoever writes.
    return context.services.i18n.translator(STAFF_LANGUAGE)


@staff_only
async def answer(update: Update, context: BotContext) -> None:
    """A staff message in a case topic: stored, then copied to the resident by the Relay."""
    message = update.effective_message
    assert message is not None and context.staff_id is not None
    case = await context.services.cases.by_thread(message.message_thread_id)
    if case is None:
        return  # a topic that is not a case: staff talk
    stored = incoming(message)
    if stored is None:
        await message.reply_text(
            _staff_tr(context)._("This kind of message cannot be passed on to the resident.")
        )
        return
    await _act(
        update,
        context,
        lambda: context.services.cases.reply(case.id, context.staff_id, stored),
    )


async def edited(update: Update, context: BotContext) -> None:
    """A staff member edited a message in a case topic."""
    message = update.effective_message
    assert message is not None
    if await context.services.cases.by_thread(message.message_thread_id) is None:
        return
    await message.reply_text(
        "✏️ "
        + _staff_tr(context)._(
            "Edits do not reach the resident. Please send the corrected text as a new message."
        )
    )


@staff_only
async def take(update: Update, context: BotContext) -> None:
    """/take: the case is mine."""
    case = await _case_here(update, context)
    if case is not None:
        await _act(
            update,
            context,
            lambda: context.services.cases.take(case.id, context.staff_id),
            done="✋",
        )


@staff_only
async def close(update: Update, context: BotContext) -> None:
    """/close: done; the resident is told, the topic closes."""
    case = await _case_here(update, context)
    if case is not None:
        await close_case(update, context, case.id)


@staff_only
async def reopen(update: Update, context: BotContext) -> None:
    """/reopen: a closed case is open again."""
    case = await _case_here(update, context)
    if case is not None:
        await reopen_case(update, context, case.id)


@staff_only
async def note(update: Update, context: BotContext) -> None:
    """/note TEXT: an internal note, stored with the case and never sent to the resident."""
    case = await _case_here(update, context)
    message = update.effective_message
    if case is None or message is None or context.staff_id is None:
        return
    # A note may be a photo or document with "/note …" as its caption: it keeps the file.
    attached = incoming(message)
    file_id = attached.file_id if attached is not None else None
    if not context.args and file_id is None:
        await message.reply_text(
            _staff_tr(context)._("Write the note after the command: /note TEXT")
        )
        return
    stored = Incoming(
        attached.kind if attached is not None and file_id is not None else "note",
        " ".join(context.args or ()) or None,
        file_id,
        None,
        message.chat_id,
        message.message_id,
    )
    await _act(
        update,
        context,
        lambda: context.services.cases.note(case.id, context.staff_id, stored),
        done="✍",
    )


async def command_in_any_form(update: Update, context: BotContext) -> None:
    """A command Telegram did not mark as one (a caption, or a client that left the mark out):
    it does what the marked command does, and is never passed on to the resident."""
    message = update.effective_message
    assert message is not None
    command = typed_command(message)
    if command is None or (
        command.addressee is not None
        and command.addressee.lower() != (context.bot.username or "").lower()
    ):
        return  # meant for another bot
    action = {
        "take": take,
        "close": close,
        "reopen": reopen,
        "note": note,
        "t": template,
        "closed": closed_day,
    }.get(command.name, unknown_command)
    context.args = command.args
    await action(update, context)


@staff_only
async def unknown_command(update: Update, context: BotContext) -> None:
    """An unknown command in a case topic: say that nothing reached the resident."""
    message = update.effective_message
    assert message is not None
    if message.is_topic_message and await context.services.cases.by_thread(
        message.message_thread_id
    ):
        await message.reply_text(
            "⚠️ "
            + _staff_tr(context)._(
                "Unknown command: nothing was sent to the resident. Known: %(commands)s"
            )
            % {"commands": "/note, /take, /close, /reopen, /t"}
        )


@staff_only
async def template(update: Update, context: BotContext) -> None:
    """/t KEY: a canned reply in the resident's language; /t alone lists them."""
    case = await _case_here(update, context)
    if case is None:
        return
    if not context.args:
        await _show_templates(update, context, case)
        return
    await send_template(update, context, case, context.args[0])


async def send_template(update: Update, context: BotContext, case: Case, key: str) -> bool:
    """Send a canned reply; the topic shows what went out, in German. False if refused (and a
    press answered so)."""
    services = context.services
    tr = _staff_tr(context)
    found = services.org.template(key)
    message = update.effective_message
    assert message is not None and context.staff_id is not None
    if found is None:
        keys = ", ".join(t.key for t in services.org.templates) or "–"
        await message.reply_text(tr._("Unknown canned reply. Known: %(keys)s") % {"keys": keys})
        return True
    summary = (
        "📤 "
        + tr._("Canned reply “%(title)s” sent in %(language)s. In German:")
        % {"title": escape(found.title), "language": case.language}
        + "\n"
        + escape(found.text("de"))
    )
    if update.callback_query is not None:
        # A button press has no message of its own: the summary in the topic is the source
        # (unique, and where the 👍 of a delivery shows).
        source = await context.bot.send_message(
            message.chat_id, summary, message_thread_id=case.thread_id, parse_mode=ParseMode.HTML
        )
    else:
        source = message
    stored = Incoming(
        "text", found.text(case.language), None, None, source.chat_id, source.message_id
    )
    done = await _act(
        update,
        context,
        lambda: services.cases.reply(case.id, context.staff_id, stored, template_key=found.key),
    )
    if done is not None and update.callback_query is None:
        await message.reply_text(summary, parse_mode=ParseMode.HTML)
    return done is not None


async def _show_templates(update: Update, context: BotContext, case: Case) -> None:
    services = context.services
    buttons = [
        [InlineKeyboardButton(t.title, callback_data=callbacks.CASE("send", case.id, t.key))]
        for t in services.org.templates
    ]
    text = _staff_tr(context)._("Which canned reply? It is sent in the resident's language.")
    message = update.effective_message
    assert message is not None
    await context.bot.send_message(
        message.chat_id,
        text,
        reply_markup=InlineKeyboardMarkup(buttons),
        message_thread_id=case.thread_id,
    )


@staff_only
async def card_button(update: Update, context: BotContext) -> None:
    """case:<action>:<id>[:<key>] from a case card."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.staff_id is not None
    if query.message is None or query.message.chat.id != context.services.settings.staff_chat_id:
        # Case cards live in the staff group only: data like this elsewhere is forged.
        await fallback.unknown_button(update, context)
        return
    parts = query.data.split(":")
    case_id = parse_id(parts[2]) if len(parts) >= 3 else None
    if case_id is None:
        await query.answer()
        return
    action = parts[1]
    cases = context.services.cases
    try:
        case = await cases.case_for_staff(case_id)
    except CaseError as error:
        await query.answer(str(error), show_alert=True)
        return
    # Telegram takes one answer per press, and a refusal is answered by _act with its reason:
    # the toast comes only once the action has gone through.
    done, toast = True, None
    if action == "take":
        done = await _act(update, context, lambda: cases.take(case_id, context.staff_id))
        toast = "✋"
    elif action == "close":
        done, toast = await close_case(update, context, case_id), "✅"
    elif action == "reopen":
        done, toast = await reopen_case(update, context, case_id), "↩️"
    elif action == "templates":
        await _show_templates(update, context, case)
    elif action == "send" and len(parts) == 4:
        done = await send_template(update, context, case, parts[3])
        toast = "📤" if context.services.org.template(parts[3]) else None
    if done:
        await query.answer(toast)


async def close_case(update: Update, context: BotContext, case_id: int) -> bool:
    """Close the case (the resident is told through the courier); False if refused (and a
    press answered so)."""
    services = context.services
    assert context.staff_id is not None
    closed = await _act(
        update, context, lambda: services.cases.close(case_id, context.staff_id), done="✅"
    )
    # The resident's notice is queued with the closing (CaseService.close).
    return closed is not None


async def reopen_case(update: Update, context: BotContext, case_id: int) -> bool:
    """Reopen the case and its topic; False if refused (and a press answered so)."""
    assert context.staff_id is not None
    reopened = await _act(
        update, context, lambda: context.services.cases.reopen(case_id, context.staff_id)
    )
    if reopened is None:
        return False
    await context.services.relay.reopen_topic(case_id)
    return True


async def _act(update: Update, context: BotContext, action, done: str | None = None):
    """Run a staff action; report a CaseError plainly; keep the topic and card in step."""
    message = update.effective_message
    try:
        result = await action()
    except CaseError as error:
        if update.callback_query is not None:
            await update.callback_query.answer(str(error), show_alert=True)
        elif message is not None:
            await message.reply_text("⚠️ " + str(error))
        return None
    case = result if isinstance(result, Case) else None
    if case is not None:
        await context.services.relay.refresh_case(case.id)
    if done and message is not None and update.callback_query is None:
        try:
            await message.set_reaction(ReactionTypeEmoji(done))
        except TelegramError:
            logger.info("could not react to staff message %s", message.message_id)
    return case if case is not None else True
