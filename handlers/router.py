"""The one place that says who is waiting for a private message, in the order they are asked.

Commands and button presses have handlers of their own (bot/app.py); every other message in a
private chat comes here. Staff are answered as staff: a staff member's text is a reply to the case
they chose, a step of the event or notice they are writing, or else a question back ("to which
case?"). It never becomes a resident's request, so a social worker never gets the privacy notice
(only someone who agreed to it as a resident, e.g. an admin trying the bot, writes as one).
"""

from __future__ import annotations

from telegram import Update

from handlers.resident import appointments, requests
from handlers.shared.context import BotContext
from handlers.staff import events as staff_events
from handlers.staff import queue


async def private_message(update: Update, context: BotContext) -> None:
    """A message in a private chat that is not a command."""
    # Each of these checks staff status itself, and only when something is waiting, so a
    # resident's message costs no membership lookup here.
    if await queue.relay_staff_reply(update, context):
        return  # the case a staff member chose with "✍️ Reply"
    if await staff_events.take_input(update, context):
        return  # the next step of /newevent or /broadcast
    resident = context.resident
    if resident is None or context.services.residents.needs_consent(resident):
        # Not a resident who agreed: a newcomer, or staff (the consent gate let staff through
        # and has already looked them up, so this answer comes from the cache).
        user = update.effective_user
        if user is not None and await context.services.staff.is_staff(user.id):
            await queue.ask_which_case(update, context)
            return
    if await appointments.take_note(update, context):
        return  # the note asked for while booking an appointment
    await requests.message(update, context)
