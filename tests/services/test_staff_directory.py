"""Who is staff, without Telegram: the membership lookup is a function the tests control."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.staff.directory import LookupRefused, StaffCheckUnavailable, StaffDirectory

GROUP = -1001
ADMIN, MEMBER, STRANGER = 1, 2, 3


class Telegram:
    """Answers getChatMember from `statuses`; `failures` calls fail first."""

    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.statuses = {MEMBER: "member", STRANGER: "left"}
        self.failures = failures
        self.error = error or ConnectionError("Bad Gateway")
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set, a lookup waits for it

    async def __call__(self, chat_id: int, user_id: int) -> str | None:
        assert chat_id == GROUP
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise self.error
        return self.statuses.get(user_id)


def directory(telegram: Telegram, clock) -> StaffDirectory:
    return StaffDirectory(frozenset({ADMIN}), GROUP, telegram, clock, retry_pauses=(0, 0))


async def test_admins_and_members_are_staff_strangers_are_not(clock):
    telegram = Telegram()
    staff = directory(telegram, clock)
    assert await staff.is_staff(ADMIN) and telegram.calls == 0
    assert await staff.is_staff(MEMBER)
    assert not await staff.is_staff(STRANGER)
    assert not await StaffDirectory(frozenset(), None, telegram, clock).is_staff(MEMBER)


async def test_a_failing_lookup_is_retried_then_reported_never_answered_no(clock):
    telegram = Telegram(failures=2)
    assert await directory(telegram, clock).is_staff(MEMBER) and telegram.calls == 3
    telegram = Telegram(failures=3)
    staff = directory(telegram, clock)
    with pytest.raises(StaffCheckUnavailable):
        await staff.is_staff(STRANGER)  # not even a stranger is called "no" on a failure
    assert telegram.calls == 3
    refused = Telegram(failures=1, error=LookupRefused("Bad Request: chat not found"))
    with pytest.raises(StaffCheckUnavailable):
        await directory(refused, clock).is_staff(MEMBER)
    assert refused.calls == 1  # refused for good: asking again at once is pointless


async def test_only_a_yes_is_cached_and_only_briefly(clock):
    telegram = Telegram()
    staff = directory(telegram, clock)
    await staff.is_staff(MEMBER)
    await staff.is_staff(MEMBER)
    assert telegram.calls == 1
    await staff.is_staff(STRANGER)
    await staff.is_staff(STRANGER)
    assert telegram.calls == 3  # a "no" is asked again: somebody who just joined gets in
    clock.advance(timedelta(minutes=3))
    telegram.statuses[MEMBER] = "left"  # left without the bot seeing it
    assert not await staff.is_staff(MEMBER)


async def test_a_membership_change_ends_the_cached_yes_even_during_a_lookup(clock):
    telegram = Telegram()
    staff = directory(telegram, clock)
    assert await staff.is_staff(MEMBER)
    telegram.statuses[MEMBER] = "left"
    staff.forget(MEMBER)  # the chat_member update arrives
    assert not await staff.is_staff(MEMBER)
    # A lookup under way when the change comes in answers what Telegram said then, but the
    # answer is not kept: the next check asks again.
    telegram.statuses[MEMBER] = "member"
    telegram.gate = asyncio.Event()
    lookup = asyncio.create_task(staff.is_staff(MEMBER))
    await asyncio.sleep(0)
    staff.forget(MEMBER)
    telegram.gate.set()
    assert await lookup
    telegram.statuses[MEMBER] = "left"
    assert not await staff.is_staff(MEMBER)


def test_only_the_staff_group_itself_speaks_for_staff(clock):
    staff = directory(Telegram(), clock)
    assert staff.speaks_for_staff_group(GROUP, GROUP)
    assert not staff.speaks_for_staff_group(GROUP, -2002)  # a channel posting in the group
    assert not staff.speaks_for_staff_group(-2002, GROUP)
