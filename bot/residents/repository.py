"""Data access for residents: SQL lives here and nowhere in the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.db import Database


@dataclass(frozen=True)
class Resident:
    user_id: int
    chat_id: int
    language: str
    district: str | None
    consent_at: datetime | None
    consent_version: int | None
    last_seen_at: datetime | None
    blocked: bool

    @property
    def consented(self) -> bool:
        return self.consent_at is not None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row_to_resident(row) -> Resident:
    return Resident(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        district=row["district"],
        consent_at=_time(row["consent_at"]),
        consent_version=row["consent_version"],
        last_seen_at=_time(row["last_seen_at"]),
        blocked=bool(row["blocked"]),
    )


class ResidentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Resident | None:
        row = await self._db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        return _row_to_resident(row) if row else None

    async def set_language(self, user_id: int, chat_id: int, language: str) -> None:
        await self._db.execute(
            "INSERT INTO residents (user_id, chat_id, language) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
            " chat_id = excluded.chat_id",
            (user_id, chat_id, language),
        )

    async def record_consent(
        self,
        user_id: int,
        version: int,
        now: datetime,
        district: str | None = None,
        link_id: int | None = None,
    ) -> bool:
        """Record consent; counts a newly reached resident once, and the deep link they came
        through (`link_id`, anonymous: no user id goes with it). `district` is kept unless one
        is stored already. False if there is no such row."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT language, consent_at FROM residents WHERE user_id = ?", (user_id,)
            )
            if row is None:
                return False
            await tx.execute(
                "UPDATE residents SET consent_at = ?, consent_version = ?, last_seen_at = ?,"
                " district = COALESCE(district, ?) WHERE user_id = ?",
                (now.isoformat(), version, now.isoformat(), district, user_id),
            )
            if row["consent_at"] is None and link_id is not None:
                await tx.execute(
                    "INSERT INTO outreach_counts (link_id, day, count) VALUES (?, ?, 1)"
                    " ON CONFLICT (link_id, day) DO UPDATE SET count = count + 1",
                    (link_id, now.strftime("%Y-%m-%d")),
                )
            if row["consent_at"] is None:
                await tx.execute(
                    "INSERT INTO anonymous_counts (kind, month, language, count)"
                    " VALUES ('resident_reached', ?, ?, 1)"
                    " ON CONFLICT (kind, month, language) DO UPDATE SET count = count + 1",
                    (now.strftime("%Y-%m"), row["language"]),
                )
                await tx.execute(
                    "INSERT INTO daily_counts (kind, day, language, count)"
                    " VALUES ('resident_reached', ?, ?, 1)"
                    " ON CONFLICT (kind, day, language) DO UPDATE SET count = count + 1",
                    (now.strftime("%Y-%m-%d"), row["language"]),
                )
        return True

    async def set_district(self, user_id: int, district: str) -> None:
        """Only for residents who agreed: before consent no district is kept."""
        await self._db.execute(
            "UPDATE residents SET district = ? WHERE user_id = ? AND consent_at IS NOT NULL",
            (district, user_id),
        )

    async def touch(self, user_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE residents SET last_seen_at = ? WHERE user_id = ? AND consent_at IS NOT NULL",
            (now.isoformat(), user_id),
        )

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._db.execute(
            "UPDATE residents SET blocked = ? WHERE user_id = ?", (int(blocked), user_id)
        )

    async def count_by_language(self) -> dict[str, tuple[int, int]]:
        """language -> (residents who consented, residents who blocked the bot)."""
        rows = await self._db.fetchall(
            "SELECT language, COUNT(*) AS n, SUM(blocked) AS blocked FROM residents"
            " WHERE consent_at IS NOT NULL GROUP BY language"
        )
        return {row["language"]: (row["n"], row["blocked"] or 0) for row in rows}

    async def reached_by_month(self) -> list[tuple[str, str, int]]:
        """(month, language, residents reached) from the anonymous counts, oldest month first."""
        rows = await self._db.fetchall(
            "SELECT month, language, count FROM anonymous_counts"
            " WHERE kind = 'resident_reached' ORDER BY month, language"
        )
        return [(row["month"], row["language"], row["count"]) for row in rows]
