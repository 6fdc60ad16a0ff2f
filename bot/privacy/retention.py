"""Retention, every six hours: message content of cases closed longer than THINKA_RETENTION_DAYS
is erased (with their topics in the staff group), requests never sent are discarded after 30
days, and residents inactive for two years are deleted. Only counts are logged, never who or
what."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from telegram.ext import ContextTypes, JobQueue

from bot.core.clock import Clock
from bot.privacy.erasure import Erasure
from bot.privacy.repository import PersonalDataRepository


class TopicRemover(Protocol):
    """What retention needs from the relay (bot/transport/relay.py): a case's staff topic
    removed. A protocol, so that privacy stays below transport in the layers."""

    async def delete_topic(self, thread_id: int) -> None: ...


logger = logging.getLogger(__name__)

INACTIVE_AFTER = timedelta(days=730)
# A draft nobody sent (stopped at the topic question or at the quick answers) is not a request:
# what was written in it is not kept longer than a month.
ABANDONED_DRAFT_AFTER = timedelta(days=30)


class Retention:
    def __init__(
        self,
        repository: PersonalDataRepository,
        erasure: Erasure,
        relay: TopicRemover,
        clock: Clock,
        retention_days: int,
    ) -> None:
        self._repo = repository
        self._erasure = erasure
        self._relay = relay
        self._clock = clock
        self._keep = timedelta(days=retention_days)

    def schedule(self, job_queue: JobQueue) -> None:
        # Every six hours rather than once at a fixed time: a bot that was down at that time
        # still erases on the same day.
        job_queue.run_repeating(self._job, interval=6 * 3600, first=60, name="retention")

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.run()
        except Exception:
            logger.exception("retention pass failed; next pass in six hours")

    async def run(self) -> tuple[int, int]:
        """Returns (cases whose content was erased, residents deleted)."""
        now = self._clock.now()
        cases = await self._repo.closed_before(now - self._keep)
        for case_id, thread_id in cases:
            await self._relay.delete_topic(thread_id)
            await self._erasure.erase_case_content(case_id)
        drafts = await self._repo.discard_drafts_before(now - ABANDONED_DRAFT_AFTER)
        residents = await self._repo.inactive_since(now - INACTIVE_AFTER)
        for user_id in residents:
            await self._erasure.erase(user_id)
        if cases or drafts:
            # Erasing a resident empties the WAL itself; old case content needs it too.
            await self._erasure.checkpoint()
        await self._erasure.forget_old_erasures(now)
        logger.info(
            "retention: content of %d closed cases erased, %d unsent drafts discarded,"
            " %d inactive residents deleted",
            len(cases),
            drafts,
            len(residents),
        )
        return len(cases), len(residents)
