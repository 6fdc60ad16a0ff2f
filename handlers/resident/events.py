"""Events for residents: the list for their districts, subscribing per district with one
button, "I'm coming", /unsubscribe, and the one question after consent (opt-in, never default).

Callback data: "ev:<action>[:<value>]".
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core import callbacks
from bot.events.service import EventError
from bot.org.orgdata import DISTRICTS
from handlers.resident import onboarding
from handlers.shared import keyboards
from handlers.shared.common import respond
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id, parse_index
from handlers.staff import events as event_staff

PREFIX = onboarding.EVENTS_PREFIX


def _subscription_buttons(tr, subscribed: set[str]) -> list[list[InlineKeyboardButton]]:
    rows = []
    for index, district in enumerate(DISTRICTS):
        label = (
            tr._("🔕 Stop announcements: %(district)s")
            if district in subscribed
            else tr._("🔔 Announcements: %(district)s")
        ) % {"district": district}
        rows.append([InlineKeyboardButton(label, callback_data=callbacks.EVENTS("toggle", index))])
    return rows


async def show_events(update: Update, context: BotContext) -> None:
    """Menu "events" or /events: upcoming events of the resident's districts, and subscriptions."""
    assert context.resident is not None
    tr = context.tr
    services = context.services
    subscribed = await services.events.subscriptions(context.resident.user_id)
    events = await services.events.upcoming_for(context.resident.user_id)
    parts = []
    if events:
        parts.append("<b>{}</b>".format(tr._("Upcoming events")))
        parts.extend(services.events.render(event, tr.language) for event in events[:5])
    else:
        parts.append(tr._("No events are planned at the moment."))
    parts.append(
        tr._("You get announcements for: %(districts)s")
        % {"districts": ", ".join(sorted(subscribed))}
        if subscribed
        else tr._("You do not get announcements yet. One tap below is enough.")
    )
    rows = [
        [
            InlineKeyboardButton(
                tr._("🙋 I'm coming: %(title)s")
                % {"title": (event.texts.get(tr.language) or event.texts["de"]).title[:30]},
                callback_data=callbacks.EVENTS("rsvp", event.id),
            )
        ]
        for event in events[:5]
    ]
    rows += _subscription_buttons(tr, subscribed)
    rows.append([keyboards.back_button(tr)])
    await respond(update, context, "\n\n".join(parts), InlineKeyboardMarkup(rows))


async def button(update: Update, context: BotContext) -> None:
    """Every "ev:" button."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.resident is not None
    action, _, value = query.data.removeprefix(PREFIX).partition(":")
    services = context.services
    resident_id = context.resident.user_id
    tr = context.tr
    if action == "optin":
        index = parse_index(value, len(DISTRICTS))
        chosen = (
            set(DISTRICTS)
            if value == "all"
            else set()
            if value == "none"
            else {DISTRICTS[index]}
            if index is not None
            else None
        )
        if chosen is not None:
            await services.events.subscribe(resident_id, chosen)
        await onboarding.show_main_menu(update, context)
    elif action == "toggle" and (index := parse_index(value, len(DISTRICTS))) is not None:
        await services.events.toggle(resident_id, DISTRICTS[index])
        await show_events(update, context)
    elif action == "rsvp" and (event_id := parse_id(value)) is not None:
        try:
            new = await services.events.rsvp(event_id, resident_id)
        except EventError:
            await query.answer(tr._("This event is no longer open."), show_alert=True)
            return
        await query.answer(
            tr._("Thank you! See you there.")
            if new
            else tr._("You have already said you are coming.")
        )
    else:
        await respond(
            update, context, tr._("Please choose:"), keyboards.main_menu(tr), new_message=True
        )


async def events_command(update: Update, context: BotContext) -> None:
    """/events: staff manage events; residents see theirs (after consent)."""
    user = update.effective_user
    if user is not None and await context.services.staff.is_staff(user.id):
        await event_staff.staff_events(update, context)
        return
    if context.resident is None or context.services.residents.needs_consent(context.resident):
        await onboarding.ask_for_language_or_consent(update, context)
        return
    await show_events(update, context)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """/unsubscribe: no more announcements, in one step."""
    assert context.resident is not None
    await context.services.events.subscribe(context.resident.user_id, set())
    await respond(
        update,
        context,
        context._("You will not get any more announcements. You can subscribe again under Events."),
        keyboards.back_to_menu(context.tr),
    )
