"""/queue in a private chat: open cases oldest first, and everything to work one from a phone —
read its messages, reply, take, close. Works with or without a staff group.

"Reply" arms a one-shot target: the staff member's next message goes to that case's resident,
then the target is used up, so a later message can never go to the wrong person by accident.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.cases import cards as case_cards
from bot.cases.repository import Case, CaseMessage
from bot.cases.service import CaseError
from bot.core import callbacks
from bot.translation import presentation
from handlers.shared.common import incoming, respond
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id, typed_command
from handlers.staff.commands import APPOINTMENT_STATUS_LABELS, staff_only
from handlers.staff.group import close_case

logger = logging.getLogger(__name__)

QUEUE_PREFIX = callbacks.QUEUE.prefix
MAX_LISTING = 3900  # characters of HTML: below the Bot API's 4096 for the delivered text


def _age(tr, since: datetime | None, now: datetime) -> str:
    if since is None:
        return "–"
    minutes = int((now - since).total_seconds() // 60)
    if minutes < 60:
        return tr.ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    if hours < 48:
        return tr.ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = hours // 24
    return tr.ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


@staff_only
async def show_queue(update: Update, context: BotContext) -> None:
    """/queue: open cases, urgent first, then by nearest deadline, then oldest first."""
    await _show_open_cases(
        update, context, context.tr._("Open cases (urgent, then nearest deadline, then oldest)")
    )


async def ask_which_case(update: Update, context: BotContext) -> None:
    """A staff member wrote privately without choosing a case: ask which one, never treat the
    text as a resident's (it is not passed on anywhere)."""
    await _show_open_cases(
        update,
        context,
        context.tr._("To which case? Open it and press ✍️ Reply, then write your answer."),
    )


async def _show_open_cases(update: Update, context: BotContext, heading: str) -> None:
    tr = context.tr
    services = context.services
    entries = await services.cases.queue()
    now = services.clock.now()
    if not entries:
        await respond(update, context, tr._("No open cases. 🎉"))
        return
    lines = [f"<b>{escape(heading)}</b>"]
    buttons = []
    for entry in entries:
        case = entry.case
        assignee = str(case.assignee_id) if case.assignee_id else "–"
        deadline = case.deadline if case.deadline and case.deadline.due else None
        lines.append(
            # ⏰: the deadline is at most DUE_SOON_DAYS away (or past).
            ("⏰ " if deadline and deadline.due_soon else "")
            + escape(case_cards.topic_name(tr, case))
            + (f" · 📄 {case_cards.deadline_text(tr, deadline, wording=False)}" if deadline else "")
            + " · {} · {} · {} · {}".format(
                _age(tr, case.submitted_at, now),
                tr._(case_cards.STATUS_LABELS[case.status]),
                tr.ngettext("%(count)d message", "%(count)d messages", entry.messages)
                % {"count": entry.messages},
                tr._("taken by %(staff)s") % {"staff": assignee},
            )
        )
        buttons.append(
            [
                InlineKeyboardButton(
                    ("⏰ " if deadline and deadline.due_soon else "")
                    + case_cards.topic_name(tr, case)[:60],
                    callback_data=callbacks.QUEUE("open", case.id),
                )
            ]
        )
    text = "\n".join(lines)
    while len(text) > MAX_LISTING and len(lines) > 2:
        # Telegram takes 4096 characters: the last cases stay reachable through their buttons.
        lines.pop()
        text = "\n".join([*lines, "…"])
    await respond(update, context, text, InlineKeyboardMarkup(buttons))


def _case_buttons(tr, case: Case) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                tr._("📖 Read messages"), callback_data=callbacks.QUEUE("read", case.id)
            ),
            InlineKeyboardButton(tr._("✍️ Reply"), callback_data=callbacks.QUEUE("reply", case.id)),
        ],
    ]
    if case.status == "closed":
        rows.append(
            [
                InlineKeyboardButton(
                    tr._("↩️ Reopen"), callback_data=callbacks.QUEUE("reopen", case.id)
                )
            ]
        )
    else:
        rows.append(
            [
                InlineKeyboardButton(
                    tr._("✋ Take"), callback_data=callbacks.QUEUE("take", case.id)
                ),
                InlineKeyboardButton(
                    tr._("✅ Close"), callback_data=callbacks.QUEUE("close", case.id)
                ),
            ]
        )
    rows.append(
        [InlineKeyboardButton(tr._("📋 Back to the queue"), callback_data=callbacks.QUEUE("list"))]
    )
    return InlineKeyboardMarkup(rows)


@staff_only
async def queue_button(update: Update, context: BotContext) -> None:
    """q:<action>[:<id>] from the queue or a case view."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    parts = query.data.split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "list":
        await show_queue(update, context)
        return
    case_id = parse_id(parts[2]) if len(parts) == 3 else None
    if case_id is None:
        await query.answer()
        return
    staff_id = update.effective_user.id
    services = context.services
    tr = context.tr
    notice = None
    # Telegram takes one answer per press: a refusal (CaseError) is the answer, so nothing may
    # answer before the action has gone through.
    try:
        if action == "open":
            case = await services.cases.case_for_staff(case_id)
        elif action == "read":
            case, messages = await services.cases.read(case_id, staff_id)
            await query.answer()
            await _send_messages(update, context, case, messages)
            return
        elif action == "reply":
            case = await services.cases.choose_reply_target(staff_id, case_id)
            await respond(
                update,
                context,
                tr._(
                    "Your next message goes to the resident of %(case)s (%(language)s). "
                    "Text, photo, document or voice."
                )
                % {"case": f"#{case.id}", "language": case.language},
                InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                tr._("📋 Back to the queue"), callback_data=callbacks.QUEUE("list")
                            )
                        ]
                    ]
                ),
            )
            return
        elif action == "take":
            case = await services.cases.take(case_id, staff_id)
        elif action == "close":
            if not await close_case(update, context, case_id):
                return  # refused, and the press answered with the reason
            case = await services.cases.case_for_staff(case_id)
            notice = "✅"
        elif action == "reopen":
            case = await services.cases.reopen(case_id, staff_id)
            await services.relay.reopen_topic(case_id)
        else:
            await query.answer()
            return
    except CaseError as error:
        await query.answer(str(error), show_alert=True)
        return
    await services.relay.refresh_case(case.id)
    text, markup = await case_view(context, case)
    await respond(update, context, text, markup, notice=notice)


async def case_view(context: BotContext, case: Case) -> tuple[str, InlineKeyboardMarkup]:
    """The case card, its appointments (with the buttons a request needs) and the actions."""
    tr = context.tr
    services = context.services
    lines = [case_cards.card_text(tr, case)]
    rows = []
    for appointment in await services.appointments.for_case(case.id):
        if appointment.status not in ("requested", "proposed", "confirmed"):
            continue
        when = services.appointments.when(tr, appointment)
        status = tr._(APPOINTMENT_STATUS_LABELS[appointment.status])
        lines.append(f"📅 T{appointment.id} · {when} · {status}")
        if appointment.status == "requested":
            rows.extend(
                [
                    InlineKeyboardButton(
                        f"T{appointment.id} {b['text']}", callback_data=b["callback_data"]
                    )
                    for b in row
                ]
                for row in services.appointments.request_buttons(appointment)
            )
    return "\n".join(lines), InlineKeyboardMarkup(
        rows + list(_case_buttons(tr, case).inline_keyboard)
    )


async def _send_messages(
    update: Update, context: BotContext, case: Case, messages: list[CaseMessage]
) -> None:
    """The case's messages into this private chat: originals copied, notes as text."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    tr = context.tr
    await context.bot.send_message(chat_id, case_cards.card_text(tr, case), parse_mode="HTML")
    if not messages:
        await context.bot.send_message(chat_id, tr._("No messages yet."))
    # What the topic showed of the resident's texts: the German with the original quoted.
    translated = await context.services.translation.kept_for_staff(case)
    for message in messages:
        label = {
            "in": tr._("Resident"),
            "out": tr._("Staff"),
            "note": tr._("Internal note"),
        }[message.direction]
        header = f"{label} · {tr.datetime(message.created_at, 'short')}"
        try:
            shown = translated.get(message.id) if message.direction == "in" else None
            if shown is not None:
                shown = replace(shown, original=message.text or "")
            if message.direction == "note" or message.template_key:
                await context.bot.send_message(chat_id, f"{header}\n{message.text or ''}")
            elif shown is not None and message.kind == "text":
                parts = presentation.for_staff(tr, shown) or []
                for number, part in enumerate(parts):
                    text = f"{escape(header)}\n{part}" if number == 0 else part
                    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML)
            else:
                await context.bot.send_message(chat_id, header)
                await context.bot.copy_message(
                    chat_id, message.source_chat_id, message.source_message_id
                )
                caption = presentation.staff_caption(tr, shown) if shown else None
                if caption:
                    await context.bot.send_message(chat_id, caption, parse_mode=ParseMode.HTML)
        except TelegramError as error:
            # The original is gone (deleted by its author): say so instead of skipping it.
            await context.bot.send_message(
                chat_id,
                f"{header}\n⚠️ " + tr._("Not available: %(reason)s") % {"reason": error.message},
            )
    await context.bot.send_message(
        chat_id, tr._("What next?"), reply_markup=_case_buttons(tr, case)
    )


async def relay_staff_reply(update: Update, context: BotContext) -> bool:
    """If this private message answers a case chosen with "Reply", pass it on and say True."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or update.callback_query is not None:
        return False
    services = context.services
    if not await services.cases.reply_target_waiting(user.id):
        return False
    # Asked before the target is used up: when Telegram cannot say, the update fails and is
    # tried again with the target still there.
    if not await services.staff.is_staff(user.id):
        await services.cases.take_reply_target(user.id)
        return False  # no longer staff: the target is dropped, the message is theirs
    tr = context.tr
    if typed_command(message) is not None:
        # "/note …" as a caption, or a command the client did not mark: never for the resident.
        await message.reply_text(
            tr._(
                "Commands are not passed on to the resident: nothing was sent. Notes belong in "
                "the case's topic (/note). Your next message still goes to the case."
            )
        )
        return True
    case_id = await services.cases.take_reply_target(user.id)
    if case_id is None:
        return False
    stored = incoming(message)
    if stored is None:
        await message.reply_text(tr._("This kind of message cannot be passed on to the resident."))
        return True
    try:
        case = await services.cases.reply(case_id, user.id, stored)
    except CaseError as error:
        await message.reply_text("⚠️ " + str(error))
        return True
    await services.relay.refresh_case(case.id)
    await message.reply_text(
        tr._("Sent to %(case)s. A 👍 on your message shows it was delivered.")
        % {"case": f"#{case.id}"},
        reply_markup=_case_buttons(tr, case),
    )
    return True
