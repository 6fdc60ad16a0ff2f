"""Who counts as staff: the admins from THINKA_ADMIN_IDS plus the members of the staff group.

Membership is asked from Telegram (getChatMember) and cached briefly, so somebody who leaves the
staff group loses access within `ttl` without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core.clock import Clock

logger = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "owner"})
# (chat_id, user_id) -> Telegram's ChatMember status, or None when the user is not in the chat.
MemberLookup = Callable[[int, int], Awaitable[str | None]]


class StaffDirectory:
    def __init__(
        self,
        admin_ids: frozenset[int],
        staff_chat_id: int | None,
        lookup: MemberLookup,
        clock: Clock,
        ttl: timedelta = timedelta(minutes=3),
    ) -> None:
        self.admin_ids = admin_ids
        self.staff_chat_id = staff_chat_id
        self._lookup = lookup
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[int, tuple[bool, object]] = {}

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admin_ids

    async def is_staff(self, user_id: int) -> bool:
        if user_id in self.admin_ids:
            return True
        if self.staff_chat_id is None:
            return False
        now = self._clock.now()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[1] < self._ttl:  # type: ignore[operator]
            return cached[0]
        try:
            status = await self._lookup(self.staff_chat_id, user_id)
        except Exception:
            # Fail closed: an unreachable Telegram must never make somebody staff.
            logger.warning("staff check for user %s failed", user_id, exc_info=True)
            return False
        is_member = status in MEMBER_STATUSES
        self._cache[user_id] = (is_member, now)
        return is_member
