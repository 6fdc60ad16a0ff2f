"""Everything the bot does on a timer, scheduled in one place on python-telegram-bot's job queue
(APScheduler underneath). Each job derives what is due from the database, so a restart or a
missed pass loses nothing: the next pass does it."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import JobQueue

from bot.core.i18n import STAFF_LANGUAGE
from bot.privacy.erasure import CHECKPOINT_RETRY, COMPACTION_AT
from bot.privacy.retention import Retention
from bot.services import Services
from handlers.shared.context import SERVICES_KEY
from handlers.staff.commands import report_envelopes

logger = logging.getLogger(__name__)


def schedule(job_queue: JobQueue, services: Services) -> None:
    # Reminders and the staff digest: a pass every minute.
    services.reminders.schedule(job_queue)
    # Scheduled announcements and event reminders (sent by the courier, like everything).
    job_queue.run_repeating(_event_job, interval=30, first=1, name="events")
    Retention(
        services.personal_data,
        services.erasure,
        services.relay,
        services.clock,
        services.settings.retention_days,
    ).schedule(job_queue)
    job_queue.run_repeating(_monthly_report_job, interval=3600, first=120, name="monthly report")
    job_queue.run_repeating(_inbox_job, interval=3600, first=3600, name="inbox")
    # Deadlines read from letters: a reminder to staff when one is near and nobody answered,
    # and the case cards' "in 3 days" renewed when the day changes.
    job_queue.run_repeating(_deadline_job, interval=60, first=20, name="deadlines")
    # An erasure whose WAL could not be emptied at once (another connection was reading).
    job_queue.run_repeating(_outgoing_job, interval=3600, first=600, name="outgoing")
    job_queue.run_repeating(
        _erasure_job, interval=CHECKPOINT_RETRY.total_seconds(), first=1, name="erasure"
    )
    # Erased ids can stay as dividers in SQLite's pages: the files are rewritten every night.
    job_queue.run_daily(
        _compaction_job,
        time=COMPACTION_AT.replace(tzinfo=services.settings.timezone),
        name="compaction",
    )


async def _erasure_job(context) -> None:
    await context.bot_data[SERVICES_KEY].erasure.finish()


async def _compaction_job(context) -> None:
    await context.bot_data[SERVICES_KEY].erasure.compact_if_due()


async def _monthly_report_job(context) -> None:
    """On the first of a month: last month's figures to every admin, once: the text, the chart
    (the twelve months up to it) and the spreadsheet."""
    services: Services = context.bot_data[SERVICES_KEY]
    local = services.clock.now().astimezone(services.settings.timezone)
    if local.day != 1:
        return
    end = local.date() - timedelta(days=1)
    start = end.replace(day=1)
    month = start.strftime("%Y-%m")
    if await services.reports.month_claimed(month):
        return  # the chart takes seconds to draw: not again every hour of the 1st
    files = await services.reports.files(await services.reports.report(start, end))
    tr = services.i18n.translator(STAFF_LANGUAGE)
    # Recorded and queued for the courier in one transaction: once, and not lost.
    if await services.reports.claim_month(
        month,
        services.clock.now(),
        [
            envelope
            for admin in sorted(services.settings.admin_ids)
            for envelope in report_envelopes(admin, files, tr, key=f"monthly-report:{month}")
        ],
    ):
        services.courier.kick()


async def _outgoing_job(context) -> None:
    """Settled deliveries are forgotten after a week (a broadcast's rows stay its record)."""
    await context.bot_data[SERVICES_KEY].courier.prune()


async def _inbox_job(context) -> None:
    await context.bot_data[SERVICES_KEY].inbox.prune()


async def _deadline_job(context) -> None:
    letters = context.bot_data[SERVICES_KEY].letters
    try:
        await letters.remind_due()
        await letters.refresh_cards()
    except Exception:
        logger.exception("deadline pass failed; next pass in a minute")


async def _event_job(context) -> None:
    try:
        await context.bot_data[SERVICES_KEY].events.run_due()
    except Exception:
        logger.exception("event pass failed; next pass in 30 s")
