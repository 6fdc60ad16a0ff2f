"""Staff commands in a private chat. Only staff get here: the gate checks before any of these runs.

A resident who types a staff command gets the same answer as for any unknown command, so nothing
tells them that staff commands exist.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from html import escape

from telegram import Bot, Update
from telegram.constants import ParseMode

from bot.core.i18n import LANGUAGE_NAMES, N_, Translator
from bot.core.logs import person
from bot.core.outgoing import Document, Envelope, Lane, Photo, Text, to_chat
from bot.reporting.service import ReportFiles, period_for
from bot.reporting.text import text_report
from handlers.shared import fallback
from handlers.shared.common import message_pages, respond
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id

logger = logging.getLogger(__name__)

APPOINTMENT_STATUS_LABELS = {
    "requested": N_("requested"),
    "proposed": N_("other time proposed"),
    "confirmed": N_("confirmed"),
    "done": N_("took place"),
    "no_show": N_("did not come"),
    "declined": N_("declined"),
    "cancelled": N_("cancelled by the resident"),
}

Callback = Callable[[Update, BotContext], Awaitable[None]]


def staff_only(callback: Callback) -> Callback:
    """Run `callback` for staff; anybody else gets the unknown-command answer."""

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        staff_id = await acting_staff(update, context)
        if staff_id is None:
            user, chat = update.effective_user, update.effective_chat
            logger.info("%s tried a staff action", person(user.id if user else None))
            if update.callback_query is not None:
                # Forged or stale data: nothing happens, whatever the data says.
                await fallback.unknown_button(update, context)
            elif chat is not None and chat.type == chat.PRIVATE:
                await fallback.unknown_message(update, context)
            return
        context.is_staff = True
        context.staff_id = staff_id
        await callback(update, context)

    return guarded


async def acting_staff(update: Update, context: BotContext) -> int | None:
    """Who acts as staff in this update: the user's id, or the staff group's id for a message an
    anonymous administrator wrote as the group; None for anybody else. Raises
    StaffCheckUnavailable when Telegram cannot say (the update is then tried again later)."""
    staff = context.services.staff
    message, chat = update.effective_message, update.effective_chat
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        if chat is not None and staff.speaks_for_staff_group(chat.id, message.sender_chat.id):
            return message.sender_chat.id
        return None  # a channel or another chat speaking: never staff
    user = update.effective_user
    if user is None or user.is_bot or not await staff.is_staff(user.id):
        return None
    return user.id


@staff_only
async def stats(update: Update, context: BotContext) -> None:
    """/stats [YYYY | YYYY-MM]: residents reached, by language and by month (anonymous counts
    survive deletion), events and appointments; admins also get the funder report of the period
    (this month so far by default). In a private chat: the chart and the spreadsheet too."""
    tr = context.tr
    services = context.services
    chat = update.effective_chat
    assert chat is not None
    today = services.clock.now().astimezone(services.settings.timezone).date()
    period = period_for(" ".join(context.args or ()) or None, today)
    if period is None:
        await respond(
            update,
            context,
            tr._("Please write /stats, /stats 2026 for a year or /stats 2026-11 for a month."),
        )
        return
    start, end = period
    residents = services.residents
    current = await residents.count_by_language()
    by_month = await residents.reached_by_month()
    lines = ["<b>{}</b>".format(tr._("Residents who agreed to the privacy notice"))]
    total = sum(count for count, _ in current.values())
    lines.append(
        tr.ngettext("%(count)d resident in total", "%(count)d residents in total", total)
        % {"count": total}
    )
    for language, (count, blocked) in sorted(current.items()):
        lines.append(
            "• {}: {} ({})".format(
                escape(LANGUAGE_NAMES.get(language, language)),
                count,
                tr.ngettext("%(count)d blocked the bot", "%(count)d blocked the bot", blocked)
                % {"count": blocked},
            )
        )
    lines.append("")
    lines.append(
        "<b>{}</b>".format(tr._("Newly reached per month (also counts deleted residents)"))
    )
    if not by_month:
        lines.append(tr._("No figures yet."))
    for month, language, count in by_month:
        lines.append(f"• {month} · {escape(LANGUAGE_NAMES.get(language, language))}: {count}")
    figures = await services.events.counts()
    lines.append("")
    lines.append("<b>{}</b>".format(tr._("Events and announcements")))
    lines.append(tr._("Events published: %(count)d") % {"count": figures["events"]})
    lines.append(tr._('"I\'m coming": %(count)d') % {"count": figures["rsvps"]})
    lines.append(
        tr._("Residents with announcements: %(count)d") % {"count": figures["subscribers"]}
    )
    lines.append(tr._("Announcements delivered: %(count)d") % {"count": figures["delivered"]})
    counts = await services.appointments.counts_by_status()
    lines.append("")
    lines.append("<b>{}</b>".format(tr._("Appointments")))
    for status, label in APPOINTMENT_STATUS_LABELS.items():
        lines.append(f"• {tr._(label)}: {counts.get(status, 0)}")
    report = await services.reports.report(start, end)
    user = update.effective_user
    if user is not None and services.staff.is_admin(user.id):
        # Admins also get the funder report of the period (small groups masked as <3).
        lines.append("")
        lines += [escape(line) for line in text_report(report).splitlines()]
    first, *more = message_pages(lines)
    await respond(update, context, first)
    for page in more:
        await context.bot.send_message(chat.id, page, parse_mode=ParseMode.HTML)
    if chat.type == chat.PRIVATE:
        # The chart and the spreadsheet take a few seconds: after the figures, not before.
        await send_report_files(context.bot, chat.id, await services.reports.files(report), tr)


def _chart_caption(files: ReportFiles, tr: Translator) -> str:
    return tr._("Figures for %(start)s – %(end)s; the charts show the months up to its end.") % {
        "start": tr.date(files.report.start, "short"),
        "end": tr.date(files.report.end, "short"),
    }


async def send_report_files(bot: Bot, chat_id: int, files: ReportFiles, tr: Translator) -> None:
    """The chart (sendPhoto) and the spreadsheet (sendDocument) of a report, as the answer to
    /stats (an answer to a command: nothing to keep if it fails, the admin asks again)."""
    await bot.send_photo(chat_id, files.chart, caption=_chart_caption(files, tr))
    await bot.send_document(
        chat_id, files.xlsx, filename=f"{files.name}.xlsx", caption=tr._("The figures for Excel.")
    )


def report_envelopes(chat_id: int, files: ReportFiles, tr: Translator, key: str) -> list[Envelope]:
    """The monthly message to one admin for the courier: the text (in pages), the chart and the
    spreadsheet, each queued once under `key`."""
    pages = message_pages(files.text.splitlines())
    return [
        *(
            Envelope(
                to_chat(chat_id), Text(page, html=False), Lane.INFO, key=f"{key}:{chat_id}:{n}"
            )
            for n, page in enumerate(pages)
        ),
        Envelope(
            to_chat(chat_id),
            Photo("", escape(_chart_caption(files, tr)), data=files.chart, filename="chart.png"),
            Lane.INFO,
            key=f"{key}:{chat_id}:chart",
        ),
        Envelope(
            to_chat(chat_id),
            Document(files.xlsx, f"{files.name}.xlsx", tr._("The figures for Excel.")),
            Lane.INFO,
            key=f"{key}:{chat_id}:xlsx",
        ),
    ]


async def audit(update: Update, context: BotContext) -> None:
    """/audit [case]: who did what to which case, when (admins only; never content)."""
    user, message = update.effective_user, update.effective_message
    assert message is not None
    services = context.services
    if user is None or not services.staff.is_admin(user.id):
        await fallback.unknown_message(update, context)
        return
    tr = context.tr
    case_id = parse_id(context.args[0]) if context.args else None
    if context.args and case_id is None:
        # Not a case number: say so rather than list everything, which would look like an answer.
        await message.reply_text(
            tr._("Case %(case)s does not exist.") % {"case": "#" + context.args[0][:20]}
        )
        return
    rows = await services.personal_data.audit(case_id)
    if not rows:
        await message.reply_text(tr._("No staff actions recorded yet."))
        return
    lines = [tr._("Staff actions, newest first:")]
    for staff_id, action, case, at in rows:
        when = tr.datetime(datetime.fromisoformat(at), "short")
        lines.append(f"{when} · {staff_id} · {action}" + (f" · #{case}" if case else ""))
    await message.reply_text("\n".join(lines))
