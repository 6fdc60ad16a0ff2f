"""The one error handler: log the traceback, tell the user in their language, keep serving."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.core.i18n import I18n
from bot.core.logs import person
from handlers.shared.context import SERVICES_KEY, BotContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log with the traceback; in a private chat, apologise in the resident's language."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    # In python-telegram-bot BadRequest is a NetworkError too, but it is our mistake, not the
    # network's: it gets the full traceback. Real network trouble is retried by the library.
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network problem in update %s: %s", update_id, error)
    else:
        logger.error("error in update %s", update_id, exc_info=error)
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != chat.PRIVATE or SERVICES_KEY not in context.bot_data:
        return
    services = context.services
    language = None
    if user is not None:
        try:
            resident = await services.residents.find(user.id)
            language = resident.language if resident else I18n.supported(user.language_code)
        except Exception:
            logger.warning("could not load the language for the error message", exc_info=True)
            language = I18n.supported(user.language_code)
    tr = services.i18n.translator(language)
    try:
        await context.bot.send_message(
            chat.id,
            tr._("Sorry, something went wrong on our side. Please try again, or open the /menu."),
        )
    except Exception:
        logger.warning("could not tell %s about the error", person(chat.id), exc_info=True)
