"""What the bot does with a resident's record: language, consent, last contact. (Erasure:
bot/privacy/erasure.py.)"""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import Clock
from bot.residents.repository import Resident, ResidentRepository

# Bump when the privacy notice changes in substance: residents are then asked to agree again.
PRIVACY_NOTICE_VERSION = 1
# With machine translation on, the notice also names the provider (bot/translation): agreeing
# is recorded as PRIVACY_NOTICE_VERSION + TRANSLATION_NOTICE x the provider's number, so that
# turning translation on or changing the provider asks again, and so does a new notice version.
TRANSLATION_NOTICE = 1000
# last_seen_at only needs day precision for retention; writing it on every message would cost a
# disk sync per update for nothing.
SEEN_RESOLUTION = timedelta(hours=1)


class ResidentService:
    def __init__(
        self, repository: ResidentRepository, clock: Clock, *, translation_notice: int = 0
    ) -> None:
        self._repo = repository
        self._clock = clock
        self._translation_notice = translation_notice  # 0: translation off

    async def find(self, user_id: int) -> Resident | None:
        return await self._repo.get(user_id)

    async def choose_language(self, user_id: int, chat_id: int, language: str) -> Resident:
        """Store the language; before consent this row (id, chat, language) is all we keep."""
        await self._repo.set_language(user_id, chat_id, language)
        resident = await self._repo.get(user_id)
        assert resident is not None
        return resident

    async def give_consent(
        self, user_id: int, district: str | None = None, link_id: int | None = None
    ) -> Resident | None:
        """Record consent. `district` and `link_id` come from a deep link the resident arrived
        through: the district is stored only now, the link counted once (bot/outreach)."""
        version = PRIVACY_NOTICE_VERSION + TRANSLATION_NOTICE * self._translation_notice
        if not await self._repo.record_consent(
            user_id, version, self._clock.now(), district, link_id
        ):
            return None
        return await self._repo.get(user_id)

    async def set_district(self, resident: Resident, district: str) -> Resident:
        """The district for a resident who agreed already (e.g. from a poster's link)."""
        await self._repo.set_district(resident.user_id, district)
        return await self._repo.get(resident.user_id) or resident

    def needs_consent(self, resident: Resident | None) -> bool:
        if resident is None or not resident.consented:
            return True
        agreed = resident.consent_version or 0
        if agreed % TRANSLATION_NOTICE < PRIVACY_NOTICE_VERSION:
            return True
        return bool(self._translation_notice) and (
            agreed // TRANSLATION_NOTICE != self._translation_notice
        )

    async def seen(self, resident: Resident) -> None:
        now = self._clock.now()
        if resident.last_seen_at is None or now - resident.last_seen_at >= SEEN_RESOLUTION:
            await self._repo.touch(resident.user_id, now)

    async def mark_blocked(self, user_id: int, blocked: bool) -> None:
        await self._repo.set_blocked(user_id, blocked)

    async def count_by_language(self) -> dict[str, tuple[int, int]]:
        """language -> (residents who agreed, of them who blocked the bot)."""
        return await self._repo.count_by_language()

    async def reached_by_month(self) -> list[tuple[str, str, int]]:
        """(month, language, newly reached): anonymous, survives deletion."""
        return await self._repo.reached_by_month()
