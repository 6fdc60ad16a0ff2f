"""The one error handler: hand the failure to the update processor, log it, and keep serving.

python-telegram-bot catches what a handler raises and calls this. For an update from the inbox
the processor (bot/transport/update_processor.py) decides what happens next: try it again after
a pause, park it and tell staff, or wait for the database; the update's remaining handlers are
stopped, so none runs on half-done work. Anything else (a job, an update put in by hand) gets the
apology in the resident's language here.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError
from telegram.ext import ApplicationHandlerStop

from bot.core.failures import storage_problem
from bot.transport.parked import apologise
from bot.transport.update_processor import ChatOrderedProcessor
from handlers.shared.context import SERVICES_KEY, BotContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    """Log (a traceback only for what looks like a bug); let the processor retry or park."""
    error = context.error
    assert error is not None
    update_id = update.update_id if isinstance(update, Update) else None
    processor = context.application.update_processor
    decided = isinstance(processor, ChatOrderedProcessor) and processor.failed(update, error)
    problem = storage_problem(error)
    if problem is not None:
        # bot/transport/outage.py says it once per outage, not once per update.
        logger.log(
            logging.DEBUG if decided else logging.WARNING,
            "update %s: the database cannot be written (%s)",
            update_id,
            problem,
        )
    elif isinstance(error, Forbidden):
        logger.info("update %s: %s", update_id, error.message)
    # In python-telegram-bot BadRequest is a NetworkError too, but it is our mistake, not the
    # network's: it gets the full traceback. Real network trouble is retried.
    elif isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network problem in update %s: %s", update_id, error)
    else:
        logger.error("error in update %s", update_id, exc_info=error)
    if decided:
        raise ApplicationHandlerStop
    if not isinstance(update, Update) or isinstance(error, Forbidden):
        return
    if SERVICES_KEY in context.bot_data:
        services = context.services
        await apologise(context.bot, services.i18n, services.residents, update)
