"""A resident books an appointment without typing: topic → location → day → time → (note) →
summary → send. Every step edits the same message and has a back button. /appointments lists
what is booked, with cancel and move.

Callback data: "ap:<step>[:<value>]"; every appointment id is checked against the resident.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.appointments.notices import place, when
from bot.appointments.service import AppointmentError, SlotFull
from bot.cases.cards import TOPIC_LABELS
from bot.cases.repository import TOPICS
from bot.core import callbacks
from bot.core.i18n import N_
from bot.core.logs import person
from handlers.shared import keyboards, texts
from handlers.shared.common import first_name, respond
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id, parse_moment

logger = logging.getLogger(__name__)

PREFIX = callbacks.APPOINTMENT.prefix
STATUS = {
    "requested": N_("requested, waiting for confirmation"),
    "proposed": N_("another time was proposed to you"),
    "confirmed": N_("confirmed"),
}


def _rows(buttons: list[InlineKeyboardButton], per_row: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _back(tr, step: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tr._("⬅️ Back"), callback_data=callbacks.APPOINTMENT("back", step))]


async def start(update: Update, context: BotContext) -> None:
    """Menu "request an appointment": what is it about?"""
    assert context.resident is not None
    await context.services.appointments.begin(context.resident)
    await _show_topics(update, context)


async def _show_topics(update: Update, context: BotContext) -> None:
    tr = context.tr
    buttons = [
        InlineKeyboardButton(
            f"{keyboards.TOPIC_ICONS[topic]} {tr._(TOPIC_LABELS[topic])}",
            callback_data=callbacks.APPOINTMENT("t", topic),
        )
        for topic in TOPICS
    ]
    markup = InlineKeyboardMarkup([[b] for b in buttons] + [[keyboards.back_button(tr)]])
    await respond(update, context, tr._("📅 What would you like to talk about?"), markup)


async def _show_locations(update: Update, context: BotContext) -> None:
    tr = context.tr
    buttons = [
        [InlineKeyboardButton(f"📍 {loc.name}", callback_data=callbacks.APPOINTMENT("l", loc.key))]
        for loc in context.services.org.locations
    ]
    await respond(
        update,
        context,
        tr._("Where would you like to come?"),
        InlineKeyboardMarkup([*buttons, _back(tr, "topic")]),
    )


async def _show_days(update: Update, context: BotContext, notice: str | None = None) -> None:
    tr = context.tr
    services = context.services
    draft = await services.appointments.draft(context.resident)
    location = services.appointments.location(draft.location if draft else None)
    if location is None:
        await _show_locations(update, context)
        return
    days = await services.appointments.bookable_days(location)
    if not days:
        text = tr.ngettext(
            "There are no free appointments at %(place)s in the next %(days)d day. Please call "
            "us or come to the office hours.",
            "There are no free appointments at %(place)s in the next %(days)d days. Please call "
            "us or come to the office hours.",
            services.org.appointments.booking_days,
        ) % {
            "place": texts.value(tr, location.name),
            "days": services.org.appointments.booking_days,
        }
        await respond(
            update,
            context,
            text,
            InlineKeyboardMarkup([_back(tr, "location"), [keyboards.back_button(tr)]]),
        )
        return
    buttons = [
        InlineKeyboardButton(
            tr.day_label(day), callback_data=callbacks.APPOINTMENT("d", f"{day:%Y%m%d}")
        )
        for day in days
    ]
    text = tr._("Which day suits you?")
    if notice:
        text = f"{notice}\n\n{text}"
    await respond(
        update, context, text, InlineKeyboardMarkup([*_rows(buttons, 2), _back(tr, "location")])
    )


async def _show_times(update: Update, context: BotContext, notice: str | None = None) -> None:
    tr = context.tr
    services = context.services
    draft = await services.appointments.draft(context.resident)
    location = services.appointments.location(draft.location if draft else None)
    if draft is None or location is None or draft.day is None:
        await _show_days(update, context)
        return
    times = await services.appointments.free_times(location, draft.day)
    if not times:
        await _show_days(update, context, tr._("That day is fully booked now."))
        return
    buttons = [
        InlineKeyboardButton(
            tr.time(start), callback_data=callbacks.APPOINTMENT("s", f"{start:%Y%m%d%H%M}")
        )
        for start in times
    ]
    text = tr._("Which time? (%(day)s)") % {"day": tr.day_label(draft.day)}
    if notice:
        text = f"{notice}\n\n{text}"
    await respond(
        update, context, text, InlineKeyboardMarkup([*_rows(buttons, 3), _back(tr, "day")])
    )


async def _show_summary(update: Update, context: BotContext, *, new_message: bool = False) -> None:
    tr = context.tr
    services = context.services
    draft = await services.appointments.draft(context.resident)
    location = services.appointments.location(draft.location if draft else None)
    if draft is None or location is None or draft.starts_at is None:
        await _show_times(update, context)
        return
    lines = [
        "<b>{}</b>".format(tr._("Please check your request:")),
        "🗓 {} · {}".format(tr.date(draft.starts_at, "full"), tr.time(draft.starts_at)),
        f"📍 {texts.value(tr, location.name)}",
        "💬 {}".format(tr._(TOPIC_LABELS[draft.topic or "other"])),
    ]
    if draft.note:
        lines.append(f"📝 {texts.value(tr, draft.note)}")
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("✅ Send request"), callback_data=callbacks.APPOINTMENT("send")
                )
            ],
            [
                InlineKeyboardButton(
                    tr._("📝 Add a note"), callback_data=callbacks.APPOINTMENT("note")
                )
            ],
            _back(tr, "time"),
        ]
    )
    await respond(update, context, "\n".join(lines), markup, new_message=new_message)


async def step(update: Update, context: BotContext) -> None:
    """Every "ap:" button of the booking and of the resident's appointments."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.resident is not None
    action, _, value = query.data.removeprefix(PREFIX).partition(":")
    services = context.services
    resident = context.resident
    try:
        if action == "start":
            await start(update, context)
        elif action == "t":
            await services.appointments.update(resident, topic=value)
            await _show_locations(update, context)
        elif action == "l":
            await services.appointments.update(resident, location=value, day=None, starts_at=None)
            await _show_days(update, context)
        elif action == "d":
            day = parse_moment(value, "%Y%m%d")
            if day is None:
                raise AppointmentError("not a day")
            await services.appointments.update(resident, day=day.date(), starts_at=None)
            await _show_times(update, context)
        elif action == "s":
            await _choose_time(update, context, value)
        elif action == "note":
            await services.appointments.update(resident, awaiting_note=True)
            await respond(
                update,
                context,
                context._("Please write your note in one message."),
                InlineKeyboardMarkup([_back(context.tr, "summary")]),
            )
        elif action == "send":
            await _send(update, context)
        elif action == "back":
            await _back_to(update, context, value)
        elif action == "list":
            await my_appointments(update, context)
        elif action in ("cancel", "cancelyes", "move", "accept", "other"):
            appointment_id = parse_id(value)
            if appointment_id is None:
                raise AppointmentError("not an appointment id")
            await _own_appointment(update, context, action, appointment_id)
        else:
            await respond(
                update,
                context,
                context._("Please choose:"),
                keyboards.main_menu(context.tr),
                new_message=True,
            )
    except AppointmentError:
        # Forged or stale data: nothing happens beyond a fresh start.
        logger.info("appointment step refused for %s", person(resident.user_id))
        await respond(
            update,
            context,
            context._("This button is no longer active."),
            keyboards.main_menu(context.tr),
            new_message=True,
        )


async def _choose_time(update: Update, context: BotContext, value: str) -> None:
    services = context.services
    tz = services.settings.timezone
    moment = parse_moment(value, "%Y%m%d%H%M")
    if moment is None:
        raise AppointmentError("not a time")
    start_at = moment.replace(tzinfo=tz)
    draft = await services.appointments.draft(context.resident)
    location = services.appointments.location(draft.location if draft else None)
    if draft is None or location is None:
        raise AppointmentError("no booking in progress")
    if start_at not in await services.appointments.free_times(location, start_at.date()):
        await _show_times(update, context, context._("This time was just taken."))
        return
    await services.appointments.update(context.resident, day=start_at.date(), starts_at=start_at)
    await _show_summary(update, context)


async def _send(update: Update, context: BotContext) -> None:
    tr = context.tr
    services = context.services
    try:
        appointment = await services.appointments.submit(context.resident, first_name(update))
    except SlotFull:
        await _show_times(
            update, context, tr._("Sorry, this time was just taken. Please choose another one.")
        )
        return
    text = "\n\n".join(
        [
            "<b>{}</b>".format(tr._("Thank you! Your request has been sent.")),
            f"🗓 {when(tr, appointment)}\n📍 {place(tr, services.org, appointment)}",
            tr._("A social worker will confirm the appointment. You will get a message here."),
        ]
    )
    await respond(update, context, text, keyboards.back_to_menu(tr))


async def _back_to(update: Update, context: BotContext, step_name: str) -> None:
    services = context.services
    if step_name == "topic":
        await _show_topics(update, context)
    elif step_name == "location":
        await _show_locations(update, context)
    elif step_name == "day":
        await _show_days(update, context)
    elif step_name == "time":
        await _show_times(update, context)
    else:
        await services.appointments.update(context.resident, awaiting_note=False)
        await _show_summary(update, context)


async def take_note(update: Update, context: BotContext) -> bool:
    """The resident's next text after "add a note": it becomes the note. True if it did."""
    message = update.effective_message
    if context.resident is None or message is None or message.text is None:
        return False
    services = context.services
    draft = await services.appointments.draft(context.resident)
    if draft is None or not draft.awaiting_note:
        return False
    await services.appointments.update(
        context.resident, note=message.text[:500], awaiting_note=False
    )
    await _show_summary(update, context, new_message=True)
    return True


async def my_appointments(update: Update, context: BotContext) -> None:
    """/appointments: what is booked, with cancel and move."""
    assert context.resident is not None
    tr = context.tr
    services = context.services
    upcoming = await services.appointments.upcoming(context.resident)
    if not upcoming:
        await respond(
            update,
            context,
            tr._("You have no appointments."),
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._("📅 Request an appointment"),
                            callback_data=callbacks.APPOINTMENT("start"),
                        )
                    ],
                    [keyboards.back_button(tr)],
                ]
            ),
        )
        return
    lines = ["<b>{}</b>".format(tr._("Your appointments"))]
    buttons = []
    for appointment in upcoming:
        status = tr._(STATUS[appointment.status])
        lines.append(
            f"• {when(tr, appointment)} · {place(tr, services.org, appointment)} · {status}"
        )
        label = tr.day_label(appointment.starts_at.astimezone(services.settings.timezone).date())
        buttons.append(
            [
                InlineKeyboardButton(
                    f"🔁 {label}", callback_data=callbacks.APPOINTMENT("move", appointment.id)
                ),
                InlineKeyboardButton(
                    f"❌ {label}", callback_data=callbacks.APPOINTMENT("cancel", appointment.id)
                ),
            ]
        )
    lines.append(tr._("🔁 another time · ❌ cancel"))
    await respond(
        update,
        context,
        "\n".join(lines),
        InlineKeyboardMarkup([*buttons, [keyboards.back_button(tr)]]),
    )


async def _own_appointment(
    update: Update, context: BotContext, action: str, appointment_id: int
) -> None:
    tr = context.tr
    services = context.services
    resident = context.resident
    if action == "cancel":
        appointment = await services.appointments.own(resident, appointment_id)
        await respond(
            update,
            context,
            tr._("Cancel your appointment on %(when)s?") % {"when": when(tr, appointment)},
            InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._("❌ Yes, cancel it"),
                            callback_data=callbacks.APPOINTMENT("cancelyes", appointment_id),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            tr._("↩️ No, keep it"), callback_data=callbacks.APPOINTMENT("list")
                        )
                    ],
                ]
            ),
            new_message=True,
        )
    elif action == "cancelyes":
        # A confirmed one is in their calendar: the file removing it is queued with this.
        await services.appointments.cancel(resident, appointment_id)
        await respond(
            update,
            context,
            tr._("Your appointment has been cancelled."),
            keyboards.back_to_menu(tr),
        )
    elif action in ("move", "other"):
        if action == "other":
            await services.appointments.reject_proposal(resident, appointment_id)
        else:
            await services.appointments.begin(resident, replaces=appointment_id)
        await _show_days(update, context)
    elif action == "accept":
        # The confirmation with its calendar file is queued with the change.
        await services.appointments.accept(resident, appointment_id)
        await respond(update, context, tr._("Thank you! The new time is confirmed."))
