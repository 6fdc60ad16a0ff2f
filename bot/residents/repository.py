"""Data access for residents: SQL lives here and nowhere in the handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.db import Database
from bot.core.outgoing import Outgoing


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
    def __init__(self, db: Database, outgoing: Outgoing | None = None) -> None:
        self._db = db
        self._outgoing = outgoing or Outgoing(db)

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

    async def record_consent(self, user_id: int, version: int, now: datetime) -> bool:
        """Record consent; counts a newly reached resident once. False if there is no such row."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT language, consent_at FROM residents WHERE user_id = ?", (user_id,)
            )
            if row is None:
                return False
            await tx.execute(
                "UPDATE residents SET consent_at = ?, consent_version = ?, last_seen_at = ?"
                " WHERE user_id = ?",
                (now.isoformat(), version, now.isoformat(), user_id),
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

    async def touch(self, user_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE residents SET last_seen_at = ? WHERE user_id = ? AND consent_at IS NOT NULL",
            (now.isoformat(), user_id),
        )

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._db.execute(
            "UPDATE residents SET blocked = ? WHERE user_id = ?", (int(blocked), user_id)
        )

    async def delete(self, user_id: int, now: datetime) -> bool:
        """Erase the resident and every message of theirs; their cases stay as anonymous,
        closed rows (topic, language, dates) so that the statistics keep counting them."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM case_messages WHERE case_id IN"
                " (SELECT id FROM cases WHERE resident_id = ?)",
                (user_id,),
            )
            await tx.execute(
                "DELETE FROM staff_reply_targets WHERE case_id IN"
                " (SELECT id FROM cases WHERE resident_id = ?)",
                (user_id,),
            )
            # Appointments: the note is their words; open ones are cancelled, seats freed.
            await tx.execute(
                "DELETE FROM slot_seats WHERE appointment_id IN (SELECT a.id FROM appointments a"
                " JOIN cases c ON c.id = a.case_id WHERE c.resident_id = ?)",
                (user_id,),
            )
            await tx.execute(
                "UPDATE appointments SET note = NULL, updated_at = ?, status = CASE WHEN status"
                " IN ('requested', 'proposed', 'confirmed') THEN 'cancelled' ELSE status END"
                " WHERE case_id IN (SELECT id FROM cases WHERE resident_id = ?)",
                (now.isoformat(), user_id),
            )
            # Staff notices quote the appointment and its note.
            await tx.execute(
                "DELETE FROM staff_notices WHERE case_id IN"
                " (SELECT id FROM cases WHERE resident_id = ?)",
                (user_id,),
            )
            # Nothing queued for or about them is sent any more, and no row keeps their chat.
            await self._outgoing.erase_resident(tx, user_id)
            await tx.execute(
                "UPDATE cases SET first_name = NULL, closed_at = COALESCE(closed_at, ?),"
                " status = CASE WHEN status = 'draft' THEN 'draft' ELSE 'closed' END"
                " WHERE resident_id = ?",
                (now.isoformat(), user_id),
            )
            await tx.execute(
                "DELETE FROM cases WHERE resident_id = ? AND status = 'draft'", (user_id,)
            )
            # cases.resident_id becomes NULL (ON DELETE SET NULL).
            return await tx.execute("DELETE FROM residents WHERE user_id = ?", (user_id,)) > 0

    async def checkpoint(self) -> None:
        await self._db.checkpoint()

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
