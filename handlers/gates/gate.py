"""Gatekeeping that runs before every other handler (groups -3 and -1 of the composition root).

1. `load_resident`: private chats and the staff group only (another group is told once where
   the bot works, and left: handlers/gates/foreign_groups.py); load the resident and choose
   their translator.
2. `require_consent`: until a resident has agreed to the privacy notice, only onboarding, help,
   privacy and contact information are reachable; everything else leads back to the notice.

A gate that fails stops the update (`stops_on_failure`): python-telegram-bot would otherwise
report the error and go on to the next group, so an unsent privacy notice or an unanswered staff
lookup would let the update through to handlers that store what it carries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.core import callbacks
from bot.core.i18n import STAFF_LANGUAGE, I18n
from handlers.gates import foreign_groups
from handlers.resident import onboarding
from handlers.shared import keyboards
from handlers.shared.context import BotContext

# Reachable without consent: none of these stores anything beyond id, chat and language.
# Staff commands check staff status themselves (staff are not residents and give no consent);
# for anybody else they answer like any unknown command.
OPEN_COMMANDS = frozenset(
    {
        "start",
        "help",
        "language",
        "privacy",
        "delete",
        "stats",
        "events",
        "newevent",
        "broadcast",
        "cancel",
        "mydata",
        "audit",
    }
)
# A resident's own things: before consent, staff get the privacy notice for these like anybody.
RESIDENT_COMMANDS = frozenset({"mycases", "appointments", "unsubscribe"})
# The buttons of staff tools, which staff use without agreeing to anything as a resident.
STAFF_CALLBACKS = tuple(data.prefix for data in callbacks.REGISTRY if data.staff)
OPEN_CALLBACKS = (
    keyboards.LANGUAGE_PREFIX,
    keyboards.CONSENT_PREFIX,
    keyboards.MENU_CONTACT,
    keyboards.MENU_HELP,
    keyboards.MENU_LANGUAGE,
    keyboards.MENU_PRIVACY,
    "privacy:",
)


Gate = Callable[[Update, BotContext], Awaitable[None]]


def stops_on_failure(gate: Gate) -> Gate:
    """Whatever the gate raises ends the update here. The error still goes to every error
    handler first (logged, the person told, the update tried again later)."""

    @functools.wraps(gate)
    async def guarded(update: Update, context: BotContext) -> None:
        try:
            await gate(update, context)
        except ApplicationHandlerStop:
            raise
        except Exception as error:
            await context.application.process_error(update, error)
            raise ApplicationHandlerStop from error

    return guarded


@stops_on_failure
async def load_resident(update: Update, context: BotContext) -> None:
    """Attach the resident and their language to the context; stop for chats we do not serve."""
    chat, user = update.effective_chat, update.effective_user
    services = context.services
    if chat is None or user is None or (user.is_bot and not _anonymous_admin(update, context)):
        raise ApplicationHandlerStop
    if chat.type != chat.PRIVATE:
        if chat.id == services.settings.staff_chat_id:
            context.use_language(STAFF_LANGUAGE)  # the staff group is one shared room, in German
            return
        # Any other group: no resident data is read there; the bot says where it works, leaves.
        await foreign_groups.explain_and_leave(update, context)
        raise ApplicationHandlerStop
    resident = await services.residents.find(user.id)
    context.resident = resident
    context.use_language(resident.language if resident else I18n.supported(user.language_code))
    if resident is not None and resident.consented:
        await services.residents.seen(resident)


@stops_on_failure
async def require_consent(update: Update, context: BotContext) -> None:
    """Before consent, send anything but onboarding back to the language chooser or notice."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != chat.PRIVATE or user is None:
        return  # the staff group: staff handlers check staff status themselves
    if not context.services.residents.needs_consent(context.resident):
        return
    if update.my_chat_member is not None or _is_open(update):
        return
    if not _residents_only(update) and await context.services.staff.is_staff(user.id):
        return  # staff working from their private chat are not residents giving consent
    if update.edited_message is not None:
        raise ApplicationHandlerStop
    await onboarding.ask_for_language_or_consent(update, context)
    raise ApplicationHandlerStop


def _anonymous_admin(update: Update, context: BotContext) -> bool:
    """An anonymous administrator of the staff group: Telegram shows a bot (GroupAnonymousBot) as
    the sender and the group as `sender_chat`; they are staff, every other bot is ignored."""
    message, chat = update.effective_message, update.effective_chat
    sender = message.sender_chat if message is not None else None
    return (
        chat is not None
        and sender is not None
        and context.services.staff.speaks_for_staff_group(chat.id, sender.id)
    )


def _residents_only(update: Update) -> bool:
    """What only a resident does (a request, a booking, announcements): staff too must agree to
    the privacy notice first, like anybody who uses the bot as a resident."""
    if update.callback_query is not None:
        return not (update.callback_query.data or "").startswith(STAFF_CALLBACKS)
    return _command(update) in RESIDENT_COMMANDS


def _command(update: Update) -> str | None:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return None
    words = message.text[1:].split(maxsplit=1)
    return words[0].split("@", 1)[0].lower() if words else ""


def _is_open(update: Update) -> bool:
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return data.startswith(OPEN_CALLBACKS)
    return _command(update) in OPEN_COMMANDS
