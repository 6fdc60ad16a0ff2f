"""Everything the bot does on a timer, scheduled in one place on python-telegram-bot's job queue
(APScheduler underneath). Each job derives what is due from the database, so a restart or a
missed pass loses nothing: the next pass does it."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import JobQueue

from bot.core.outgoing import Envelope, Lane, Text, to_chat
from bot.privacy.retention import Retention
from bot.services import Services
from handlers.shared.context import SERVICES_KEY

logger = logging.getLogger(__name__)


def schedule(job_queue: JobQueue, services: Services) -> None:
    # Reminders and the staff digest: a pass every minute.
    services.reminders.schedule(job_queue)
    # Scheduled announcements and event reminders (sent by the courier, like everything).
    job_queue.run_repeating(_event_job, interval=30, first=1, name="events")
    Retention(
        services.personal_data,
        services.residents,
        services.relay,
        services.clock,
        services.settings.retention_days,
    ).schedule(job_queue)
    job_queue.run_repeating(_monthly_report_job, interval=3600, first=120, name="monthly report")
    job_queue.run_repeating(_inbox_job, interval=3600, first=3600, name="inbox")
    job_queue.run_repeating(_outgoing_job, interval=3600, first=600, name="outgoing")


async def _monthly_report_job(context) -> None:
    """On the first of a month: last month's figures to every admin, once."""
    services: Services = context.bot_data[SERVICES_KEY]
    local = services.clock.now().astimezone(services.settings.timezone)
    if local.day != 1:
        return
    end = local.date() - timedelta(days=1)
    start = end.replace(day=1)
    month = start.strftime("%Y-%m")
    report = await services.reports.report(start, end, services.settings.timezone)
    # Recorded and queued for the courier in one transaction: once, and not lost.
    if await services.reports.claim_month(
        month,
        services.clock.now(),
        [
            Envelope(
                to_chat(admin),
                Text(report.as_text(), html=False),
                Lane.INFO,
                key=f"monthly-report:{month}:{admin}",
            )
            for admin in sorted(services.settings.admin_ids)
        ],
    ):
        services.courier.kick()


async def _outgoing_job(context) -> None:
    """Settled deliveries are forgotten after a week (a broadcast's rows stay its record)."""
    await context.bot_data[SERVICES_KEY].courier.prune()


async def _inbox_job(context) -> None:
    await context.bot_data[SERVICES_KEY].inbox.prune()


async def _event_job(context) -> None:
    try:
        await context.bot_data[SERVICES_KEY].events.run_due()
    except Exception:
        logger.exception("event pass failed; next pass in 30 s")
