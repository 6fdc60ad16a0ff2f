"""Reminders and the staff's morning digest, derived from the database on every pass.

Nothing is held in APScheduler's memory: a job of python-telegram-bot's job queue runs `run_due`
every minute, and `run_due` looks at the confirmed appointments and what was already sent. A
reminder is recorded and queued for the courier in one transaction (never twice, never lost:
the courier retries it through a bad minute at Telegram); one that fell due while the bot was
down is still sent within the grace period (APScheduler's default misfire grace of one second
would drop it), and marked skipped after that. If both the 24-hour and the 2-hour reminder are
due, only the nearer one goes out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram.ext import ContextTypes, JobQueue

from bot.appointments.notices import AppointmentNotifier, place
from bot.appointments.repository import AppointmentRepository
from bot.core.clock import Clock
from bot.core.i18n import STAFF_LANGUAGE, I18n
from bot.core.outgoing import Envelope, Lane, Text, to_chat, to_group
from bot.org.orgdata import Organisation

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 60


class Reminders:
    def __init__(
        self,
        repository: AppointmentRepository,
        notifier: AppointmentNotifier,
        org: Organisation,
        clock: Clock,
        i18n: I18n,
        timezone: ZoneInfo,
        staff_chat_id: int | None,
        admin_ids: frozenset[int],
        on_queue: Callable[[], None] = lambda: None,
    ) -> None:
        self._repo = repository
        self._on_queue = on_queue
        self._notifier = notifier
        self._org = org
        self._clock = clock
        self._i18n = i18n
        self._tz = timezone
        self._staff_chat_id = staff_chat_id
        self._admin_ids = admin_ids

    def schedule(self, job_queue: JobQueue) -> None:
        job_queue.run_repeating(self._job, interval=INTERVAL_SECONDS, first=1, name="reminders")

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.run_due()
        except Exception:
            logger.exception("reminder pass failed; next pass in %ss", INTERVAL_SECONDS)

    async def run_due(self) -> None:
        await self._reminders()
        await self._digest()

    async def _reminders(self) -> None:
        settings = self._org.appointments
        now = self._clock.now()
        grace = timedelta(minutes=settings.grace_minutes)
        horizon = timedelta(hours=max(settings.reminder_hours, default=0))
        for appointment in await self._repo.confirmed_between(now, now + horizon):
            recorded = await self._repo.reminders_of(appointment.id)
            due = [
                hours
                for hours in settings.reminder_hours
                if f"{hours}h" not in recorded
                and appointment.starts_at - timedelta(hours=hours) <= now
            ]
            if not due:
                continue
            nearest = min(due)
            for hours in due:
                kind = f"{hours}h"
                late = now - (appointment.starts_at - timedelta(hours=hours))
                if hours != nearest or late > grace:
                    # Superseded by a nearer reminder, or too late to be useful.
                    await self._repo.claim_reminder(appointment.id, kind, "skipped", now)
                    continue
                if await self._repo.claim_reminder(
                    appointment.id, kind, "sent", now, self._notifier.reminder(appointment, hours)
                ):
                    logger.info("reminder %s queued for appointment %s", kind, appointment.id)
                    self._on_queue()

    async def _digest(self) -> None:
        """Once a day, from the configured time on: today's confirmed appointments for staff."""
        settings = self._org.appointments
        now = self._clock.now()
        local = now.astimezone(self._tz)
        starts = datetime.combine(local.date(), settings.staff_digest_time, tzinfo=self._tz)
        if local < starts:
            return
        day_start = datetime.combine(local.date(), datetime.min.time(), tzinfo=self._tz)
        appointments = await self._repo.confirmed_between(day_start, day_start + timedelta(days=1))
        if not appointments:
            return
        tr = self._i18n.translator(STAFF_LANGUAGE)
        lines = [
            "<b>📅 {}</b>".format(
                tr._("Appointments today, %(date)s") % {"date": tr.date(local.date(), "full")}
            )
        ]
        for appointment in appointments:
            where = place(tr, self._org, appointment)
            lines.append(
                f"• {tr.time(appointment.starts_at)} · {where} · #{appointment.case_id}"
                f" ({appointment.language})"
            )
        text = Text("\n".join(lines))
        day = local.date().isoformat()
        targets = (
            [to_group()]
            if self._staff_chat_id is not None
            else [to_chat(admin) for admin in sorted(self._admin_ids)]
        )
        digest = [
            Envelope(to, text, Lane.INFO, key=f"digest:{day}:{to.chat_id or 'group'}")
            for to in targets
        ]
        if await self._repo.claim_digest(local.date(), now, digest):
            self._on_queue()
