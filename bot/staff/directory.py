"""Who counts as staff: the admins from THINKA_ADMIN_IDS plus the members of the staff group.

Membership is asked from Telegram (getChatMember). Three rules keep access exact:

- A failed lookup never decides. It is retried briefly; if Telegram still cannot say,
  `StaffCheckUnavailable` is raised, so the update fails and is handled again later instead of
  being treated as a resident's (a staff reply must not be dropped because Telegram hiccuped) —
  and nobody is ever staff because of a failure.
- Only a positive answer is cached, and only for `ttl`: the cache makes a busy social worker
  cheaper, it never keeps somebody out.
- A `chat_member` update that shows somebody leaving, being removed or losing membership ends
  their access at once (`forget`): it drops the cached answer, and an answer to a lookup that was
  already under way when the change came in is not cached either.

Anonymous administrators of the staff group write as the group itself (`sender_chat`); they are
staff, and their actions are recorded under the group's id (`speaks_for_staff_group`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.core.clock import Clock
from bot.core.failures import TemporarilyUnavailable
from bot.core.logs import person

logger = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "owner"})
# (chat_id, user_id) -> Telegram's ChatMember status, or None when the user is not in the chat.
MemberLookup = Callable[[int, int], Awaitable[str | None]]
# Pauses between lookups that failed: about a second in all, so an update waits little longer
# than a slow Telegram answer before it is retried by the update processor.
RETRY_PAUSES = (0.2, 0.8)


class StaffCheckUnavailable(TemporarilyUnavailable):
    """Telegram could not say whether somebody is staff: neither allow nor refuse, try later."""


class LookupRefused(Exception):
    """A lookup Telegram refuses for good (e.g. the bot is no longer in the staff group): asking
    again at once will not help, so no retries; still not a "no"."""


class StaffDirectory:
    def __init__(
        self,
        admin_ids: frozenset[int],
        staff_chat_id: int | None,
        lookup: MemberLookup,
        clock: Clock,
        ttl: timedelta = timedelta(minutes=3),
        retry_pauses: tuple[float, ...] = RETRY_PAUSES,
    ) -> None:
        self.admin_ids = admin_ids
        self.staff_chat_id = staff_chat_id
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._retry_pauses = retry_pauses
        self._members: dict[int, datetime] = {}  # user -> when Telegram last said "member"
        # Bumped by every membership change seen: a lookup that started before the change may
        # not cache what it found.
        self._changes: dict[int, int] = {}

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    def speaks_for_staff_group(self, chat_id: int | None, sender_chat_id: int | None) -> bool:
        """A message an anonymous administrator wrote in the staff group: Telegram shows it as
        sent by the group itself (only the group's administrators can do that)."""
        return (
            self.staff_chat_id is not None
            and sender_chat_id == self.staff_chat_id
            and chat_id == self.staff_chat_id
        )

    async def is_staff(self, user_id: int) -> bool:
        """True for admins and members of the staff group; raises StaffCheckUnavailable when
        Telegram cannot tell."""
        if user_id in self.admin_ids:
            return True
        if self.staff_chat_id is None:
            return False
        now = self._clock.now()
        confirmed = self._members.get(user_id)
        if confirmed is not None and now - confirmed < self._ttl:
            return True
        self._members.pop(user_id, None)
        changes = self._changes.get(user_id, 0)
        status = await self._ask(user_id)
        is_member = status in MEMBER_STATUSES
        if is_member and self._changes.get(user_id, 0) == changes:
            self._members[user_id] = now
        return is_member

    def forget(self, user_id: int) -> None:
        """Telegram reported a change of this user's membership in the staff group: the next
        check asks Telegram again."""
        self._members.pop(user_id, None)
        self._changes[user_id] = self._changes.get(user_id, 0) + 1

    async def _ask(self, user_id: int) -> str | None:
        assert self.staff_chat_id is not None
        for attempt in range(len(self._retry_pauses) + 1):
            try:
                return await self._lookup(self.staff_chat_id, user_id)
            except LookupRefused as error:
                logger.warning("staff check for %s refused: %s", person(user_id), error)
                raise StaffCheckUnavailable(str(error)) from error
            except Exception as error:
                if attempt == len(self._retry_pauses):
                    logger.warning(
                        "staff check for %s failed %d times", person(user_id), attempt + 1
                    )
                    raise StaffCheckUnavailable(
                        f"Telegram did not answer the membership lookup: {error}"
                    ) from error
                await asyncio.sleep(self._retry_pauses[attempt])
        raise AssertionError("unreachable")  # the loop returns or raises
