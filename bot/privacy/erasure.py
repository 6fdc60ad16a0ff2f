"""Erasing a resident: from the database, from its WAL, from every backup.

1. One transaction takes out everything of theirs (bot/privacy/repository.py, RESIDENT_ERASURE,
   checked against the map in bot/privacy/datamap.py), and with a key file their key: every
   copy of what was sealed with it, in any backup, can no longer be read.
2. The WAL is emptied (SQLite's checkpoint, TRUNCATE): its old page images still hold what was
   just deleted. When another connection is reading (`python -m bot backup`, an operator's
   sqlite3), SQLite cannot empty it yet: the erasure then says so (`Erased.wiped` false) and
   `finish` (a job, every CHECKPOINT_RETRY) empties it as soon as it can; start-up tries too.
3. A deleted row can leave its key inside the b-tree: a Telegram id that served as a divider
   between two pages stays in their parent page until the tree is rebuilt. So every night
   (COMPACTION_AT, bot/jobs.py) the files are rewritten (VACUUM, `compact_if_due`) when anything
   was erased since: at night, because the bot waits for the database meanwhile (seconds, on a
   database of years).
4. A backup restored later would bring their rows back: at start-up `erase_again` erases anyone
   the key file remembers as erased (bot/core/keystore.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from bot.core.clock import Clock
from bot.core.db import Database
from bot.core.keystore import KeyStore
from bot.core.logs import person
from bot.privacy.repository import PersonalDataRepository

logger = logging.getLogger(__name__)

CHECKPOINT_RETRY = timedelta(seconds=5)
COMPACTION_AT = time(3, 30)  # local time (THINKA_TIMEZONE)
# Erasures are remembered this much longer than backups are kept (margin for a late backup).
REMEMBER_BEYOND_BACKUPS = timedelta(days=7)


@dataclass(frozen=True)
class Erased:
    found: bool  # there was such a resident
    wiped: bool  # the WAL is emptied too; False: pending, finished by the job


class Erasure:
    def __init__(
        self,
        repository: PersonalDataRepository,
        db: Database,
        keys: KeyStore | None,
        clock: Clock,
        backup_days: int,
    ) -> None:
        self._repo = repository
        self._db = db
        self._keys = keys
        self._clock = clock
        self._backup_days = backup_days
        # Whether an erasure may have left ids in b-tree pages; at start-up nobody knows.
        self._compaction_due = True

    async def erase(self, user_id: int) -> Erased:
        found = await self._repo.erase_resident(user_id, self._clock.now())
        self._compaction_due = True
        wiped = await self._db.checkpoint()
        if not wiped:
            logger.warning(
                "erasure of %s done; the WAL is emptied once another connection stops reading",
                person(user_id),
            )
        return Erased(found, wiped)

    async def erase_case_content(self, case_id: int) -> int:
        """Retention: the content of an old closed case (the WAL is emptied by the caller)."""
        return await self._repo.erase_case_content(case_id)

    async def checkpoint(self) -> bool:
        """Empty the WAL after other deletions (retention); pending like an erasure's."""
        return await self._db.checkpoint()

    @property
    def pending(self) -> bool:
        """An erasure whose WAL is not emptied yet."""
        return self._db.checkpoint_pending

    async def finish(self) -> bool:
        """Empty the WAL if an erasure left it pending; True when nothing is pending."""
        if not self._db.checkpoint_pending:
            return True
        if await self._db.checkpoint():
            logger.info("the WAL of an earlier erasure is emptied now")
            return True
        return False

    async def compact_if_due(self) -> bool:
        """Rewrite the files if an erasure happened since the last time (see step 3 above);
        True when nothing is left to do."""
        if not self._compaction_due:
            return True
        if await self._db.compact():
            self._compaction_due = False
            return True
        return False

    async def erase_again(self) -> int:
        """At start-up: residents the key file remembers as erased are erased again (a backup
        older than their erasure was restored); then the WAL is emptied. Returns how many."""
        again = 0
        if self._keys is not None:
            for user_id in sorted(await self._keys.erased(await self._repo.resident_ids())):
                await self._repo.erase_resident(user_id, self._clock.now())
                again += 1
        if again:
            logger.warning("%d residents erased again: they were erased after this backup", again)
        await self._db.checkpoint()
        return again

    async def forget_old_erasures(self, now: datetime) -> int:
        """Once no backup can hold an erased resident any more, the key file forgets them."""
        if self._keys is None:
            return 0
        horizon = now - timedelta(days=self._backup_days) - REMEMBER_BEYOND_BACKUPS
        return await self._keys.forget_erasures_before(horizon)
