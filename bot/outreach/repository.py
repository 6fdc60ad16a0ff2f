"""Data access for deep links: the links seen, and how many residents each brought per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.db import Database


@dataclass(frozen=True)
class StoredLink:
    id: int
    payload: str
    district: str
    language: str | None
    source: str | None


class OutreachRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(
        self, payload: str, district: str, language: str | None, source: str | None
    ) -> int:
        """The id of the link with this payload, stored the first time it is seen."""
        await self._db.execute(
            "INSERT INTO outreach_links (payload, district, language, source) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (payload) DO NOTHING",
            (payload, district, language, source),
        )
        row = await self._db.fetchone("SELECT id FROM outreach_links WHERE payload = ?", (payload,))
        assert row is not None
        return int(row["id"])

    async def get(self, link_id: int) -> StoredLink | None:
        row = await self._db.fetchone("SELECT * FROM outreach_links WHERE id = ?", (link_id,))
        if row is None:
            return None
        return StoredLink(
            id=row["id"],
            payload=row["payload"],
            district=row["district"],
            language=row["language"],
            source=row["source"],
        )

    async def residents_by_link(self, start: date, end: date) -> dict[str, int]:
        """payload -> residents who agreed after arriving through it, days start..end (UTC)."""
        rows = await self._db.fetchall(
            "SELECT l.payload, SUM(c.count) FROM outreach_counts c"
            " JOIN outreach_links l ON l.id = c.link_id"
            " WHERE c.day >= ? AND c.day <= ? GROUP BY l.payload",
            (start.isoformat(), end.isoformat()),
        )
        return {row[0]: int(row[1]) for row in rows if row[1]}
