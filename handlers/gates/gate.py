"""Gatekeeping that runs before every other handler (groups -2 and -1 of the composition root).

1. `load_resident`: private chats and the staff group only (another group is told once where
   the bot works, and left: handlers/gates/foreign_groups.py); load the resident and choose
   their translator.
2. `require_consent`: until a resident has agreed to the privacy notice, only onboarding, help,
   privacy and contact information are reachable; everything else leads back to the notice.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

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
OPEN_CALLBACKS = (
    keyboards.LANGUAGE_PREFIX,
    keyboards.CONSENT_PREFIX,
    keyboards.MENU_CONTACT,
    keyboards.MENU_HELP,
    keyboards.MENU_LANGUAGE,
    keyboards.MENU_PRIVACY,
    "privacy:",
)


async def load_resident(update: Update, context: BotContext) -> None:
    """Attach the resident and their language to the context; stop for chats we do not serve."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.is_bot:
        raise ApplicationHandlerStop
    services = context.services
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


async def require_consent(update: Update, context: BotContext) -> None:
    """Before consent, send anything but onboarding back to the language chooser or notice."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != chat.PRIVATE or user is None:
        return  # the staff group: staff handlers check staff status themselves
    if not context.services.residents.needs_consent(context.resident):
        return
    if update.my_chat_member is not None or _is_open(update):
        return
    if await context.services.staff.is_staff(user.id):
        return  # staff working from their private chat are not residents giving consent
    if update.edited_message is not None:
        raise ApplicationHandlerStop
    await onboarding.ask_for_language_or_consent(update, context)
    raise ApplicationHandlerStop


def _is_open(update: Update) -> bool:
    if update.callback_query is not None:
        data = update.callback_query.data or ""
        return data.startswith(OPEN_CALLBACKS)
    message = update.message
    if message is not None and message.text and message.text.startswith("/"):
        command = message.text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()
        return command in OPEN_COMMANDS
    return False
