"""Staff and appointments: the buttons under a request notice (confirm, propose another time,
decline, took place / did not come) and /closed for holidays. Staff only, checked per press.

What the resident is told is queued by the service with the change and delivered by the courier;
if it cannot be delivered, staff see it in the case's topic.

Callback data: "sa:<action>:<appointment id>[:<value>]".
"""

from __future__ import annotations

import logging
from datetime import date

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.appointments.service import AppointmentError, SlotFull
from bot.core import callbacks
from bot.core.i18n import STAFF_LANGUAGE
from handlers.shared.context import BotContext
from handlers.shared.user_input import inside_calendar, parse_id, parse_moment
from handlers.staff.commands import staff_only

logger = logging.getLogger(__name__)

PREFIX = callbacks.STAFF_APPOINTMENT.prefix


def _tr(context: BotContext):
    return context.services.i18n.translator(STAFF_LANGUAGE)


async def _append(update: Update, line: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Keep the notice, add what happened, replace its buttons."""
    query = update.callback_query
    assert query is not None and query.message is not None
    text = getattr(query.message, "text", None) or ""
    try:
        await query.edit_message_text(f"{text}\n{line}", reply_markup=markup)
    except TelegramError:
        logger.info("notice not updated")


@staff_only
async def button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    parts = query.data.removeprefix(PREFIX).split(":")
    appointment_id = parse_id(parts[1]) if len(parts) >= 2 else None
    if appointment_id is None:
        await query.answer()
        return
    action = parts[0]
    staff_id = update.effective_user.id
    services = context.services
    service = services.appointments
    tr = _tr(context)
    try:
        if action == "confirm":
            appointment = await service.confirm(appointment_id, staff_id)
            await query.answer("✅")
            await _append(
                update,
                "✅ " + tr._("Confirmed: %(when)s") % {"when": service.when(tr, appointment)},
                InlineKeyboardMarkup.from_column(
                    [
                        InlineKeyboardButton(b["text"], callback_data=b["callback_data"])
                        for b in service.done_buttons(appointment)[0]
                    ]
                ),
            )
        elif action == "decline":
            appointment = await service.decline(appointment_id, staff_id)
            await query.answer("✖️")
            await _append(update, "✖️ " + tr._("Declined."))
        elif action == "propose":
            days = await service.staff_days(appointment_id)
            await query.answer()  # only now: an unknown appointment is answered by the alert
            buttons = [
                InlineKeyboardButton(
                    tr.day_label(day),
                    callback_data=callbacks.STAFF_APPOINTMENT(
                        "pd", appointment_id, f"{day:%Y%m%d}"
                    ),
                )
                for day in days
            ]
            await _append(
                update,
                "🔁 " + tr._("Which day?")
                if days
                else tr._("No free slots in the booking period."),
                InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)]),
            )
        elif action == "pd" and len(parts) == 3:
            day = parse_moment(parts[2], "%Y%m%d")
            if day is None:
                await query.answer()
                return
            times = await service.staff_free_times(appointment_id, day.date())
            await query.answer()
            buttons = [
                InlineKeyboardButton(
                    tr.time(t),
                    callback_data=callbacks.STAFF_APPOINTMENT(
                        "ps", appointment_id, f"{t:%Y%m%d%H%M}"
                    ),
                )
                for t in times
            ]
            await _append(
                update,
                tr._("Which time?"),
                InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)]),
            )
        elif action == "ps" and len(parts) == 3:
            moment = parse_moment(parts[2], "%Y%m%d%H%M")
            if moment is None:
                await query.answer()
                return
            starts_at = moment.replace(tzinfo=services.settings.timezone)
            appointment = await service.propose(appointment_id, staff_id, starts_at)
            await query.answer("🔁")
            await _append(
                update,
                "🔁 "
                + tr._("Proposed to the resident: %(when)s")
                % {"when": service.when(tr, appointment)},
            )
        elif action in ("done", "noshow"):
            appointment = await service.mark(
                appointment_id, staff_id, "done" if action == "done" else "no_show"
            )
            await query.answer("✔️")
            await _append(
                update,
                ("✔️ " + tr._("Took place."))
                if action == "done"
                else ("🚫 " + tr._("Did not come.")),
            )
        else:
            await query.answer()
    except SlotFull:
        await query.answer(tr._("This time was just taken."), show_alert=True)
    except AppointmentError as error:
        await query.answer(str(error), show_alert=True)


@staff_only
async def closed_day(update: Update, context: BotContext) -> None:
    """/closed YYYY-MM-DD [location]: no bookings that day (holiday, vacation)."""
    message = update.effective_message
    assert message is not None and context.staff_id is not None
    tr = _tr(context)
    services = context.services
    keys = ", ".join(loc.key for loc in services.org.locations)
    args = context.args or []
    try:
        day = date.fromisoformat(args[0]) if args else None
    except ValueError:
        day = None
    if day is None or not inside_calendar(day) or len(args) > 2:
        await message.reply_text(
            tr._("Usage: /closed YYYY-MM-DD [location]; locations: %(keys)s (none: all)")
            % {"keys": keys}
        )
        return
    location = args[1] if len(args) == 2 else "*"
    try:
        affected = await services.appointments.close_day(location, day, context.staff_id)
    except AppointmentError as error:
        await message.reply_text(f"⚠️ {error} ({keys})")
        return
    lines = [tr._("Closed on %(day)s: no new bookings.") % {"day": tr.date(day, "full")}]
    if affected:
        lines.append(tr._("Already booked that day (please contact them):"))
        lines.extend(f"• T{a.id} · #{a.case_id} · {tr.time(a.starts_at)}" for a in affected)
    await message.reply_text("\n".join(lines))
