"""Everything stored about one resident, for /mydata (right of access), and the retention rules.

SQL lives here; the handler turns the result into a message and a JSON file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.core.crypto import Cipher
from bot.core.db import Database
from bot.core.outgoing import Outgoing


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


ENCRYPTED_COLUMNS = (
    ("case_messages", "id", "text"),
    ("appointments", "id", "note"),
    ("staff_notices", "id", "text"),
    # Queued texts (canned replies, notices): sealed when they hold text, clear JSON otherwise.
    ("outgoing", "id", "content"),
)


class PersonalDataRepository:
    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    async def rotate(self, cipher: Cipher) -> int:
        """Re-encrypt every sealed column with the first key (and seal what is clear)."""
        changed = 0
        for table, key, column in ENCRYPTED_COLUMNS:
            rows = await self._db.fetchall(
                f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
            )
            async with self._db.transaction() as tx:
                for row in rows:
                    await tx.execute(
                        f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                        (cipher.rotate(row[1]), row[0]),
                    )
                    changed += 1
        await self._db.checkpoint()
        return changed

    async def export(self, user_id: int) -> dict[str, Any] | None:
        resident = await self._db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        if resident is None:
            return None
        cases = await self._db.fetchall(
            "SELECT id, status, topic, district, language, first_name, urgent, created_at,"
            " submitted_at, closed_at FROM cases WHERE resident_id = ? ORDER BY id",
            (user_id,),
        )
        messages = await self._db.fetchall(
            "SELECT m.case_id, m.direction, m.kind, m.text, m.created_at FROM case_messages m"
            " JOIN cases c ON c.id = m.case_id WHERE c.resident_id = ? AND m.direction != 'note'"
            " ORDER BY m.id",
            (user_id,),
        )
        appointments = await self._db.fetchall(
            "SELECT a.id, a.case_id, a.location, a.starts_at, a.ends_at, a.status, a.note"
            " FROM appointments a JOIN cases c ON c.id = a.case_id WHERE c.resident_id = ?"
            " ORDER BY a.starts_at",
            (user_id,),
        )
        subscriptions = await self._db.fetchall(
            "SELECT district, created_at FROM subscriptions WHERE resident_id = ?", (user_id,)
        )
        rsvps = await self._db.fetchall(
            "SELECT event_id, created_at FROM rsvps WHERE resident_id = ?", (user_id,)
        )
        return {
            "resident": {k: resident[k] for k in resident.keys()},
            "cases": [dict(zip(row.keys(), tuple(row), strict=True)) for row in cases],
            "messages": [dict(zip(row.keys(), tuple(row), strict=True)) for row in messages],
            "appointments": [
                dict(zip(row.keys(), tuple(row), strict=True)) for row in appointments
            ],
            "subscriptions": [
                dict(zip(row.keys(), tuple(row), strict=True)) for row in subscriptions
            ],
            "coming_to_events": [dict(zip(row.keys(), tuple(row), strict=True)) for row in rsvps],
        }

    # -- retention --------------------------------------------------------------------------
    async def closed_before(self, moment: datetime) -> list[tuple[int, int | None]]:
        """(case, forum topic) of cases closed before `moment` that still hold content."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT c.id, c.thread_id FROM cases c WHERE c.status = 'closed'"
            " AND c.closed_at < ? AND (c.thread_id IS NOT NULL OR EXISTS (SELECT 1 FROM"
            " case_messages m WHERE m.case_id = c.id AND (m.text IS NOT NULL OR m.file_id IS NOT"
            " NULL)) OR EXISTS (SELECT 1 FROM appointments a WHERE a.case_id = c.id AND a.note"
            " IS NOT NULL))",
            (_iso(moment),),
        )
        return [(row[0], row[1]) for row in rows]

    async def erase_case_content(self, case_id: int) -> int:
        """Message content and appointment notes of a closed case; the case row stays."""
        async with self._db.transaction() as tx:
            erased = await tx.execute(
                "UPDATE case_messages SET text = NULL, file_id = NULL WHERE case_id = ?"
                " AND (text IS NOT NULL OR file_id IS NOT NULL)",
                (case_id,),
            )
            await tx.execute("UPDATE appointments SET note = NULL WHERE case_id = ?", (case_id,))
            await tx.execute("DELETE FROM staff_notices WHERE case_id = ?", (case_id,))
            await Outgoing(self._db).erase_case(tx, case_id)
            await tx.execute(
                "UPDATE cases SET thread_id = NULL, card_message_id = NULL, first_name = NULL"
                " WHERE id = ?",
                (case_id,),
            )
        return erased

    async def discard_drafts_before(self, moment: datetime) -> int:
        """Requests never sent (the resident stopped at a question or at the quick answers) and
        untouched since `moment`: gone with what was written in them; staff never saw them."""
        return await self._db.execute(
            "DELETE FROM cases WHERE status = 'draft' AND created_at < ? AND NOT EXISTS"
            " (SELECT 1 FROM case_messages m WHERE m.case_id = cases.id AND m.created_at >= ?)",
            (_iso(moment), _iso(moment)),
        )

    async def inactive_since(self, moment: datetime) -> list[int]:
        rows = await self._db.fetchall(
            # Before consent a row holds no time at all (data minimisation): only residents who
            # agreed can be judged inactive.
            "SELECT user_id FROM residents WHERE consent_at IS NOT NULL"
            " AND COALESCE(last_seen_at, consent_at) < ?",
            (_iso(moment),),
        )
        return [row[0] for row in rows]

    async def audit(self, case_id: int | None, limit: int = 30) -> list[tuple]:
        if case_id is None:
            rows = await self._db.fetchall(
                "SELECT staff_id, action, case_id, at FROM audit_log ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self._db.fetchall(
                "SELECT staff_id, action, case_id, at FROM audit_log WHERE case_id = ?"
                " ORDER BY id DESC LIMIT ?",
                (case_id, limit),
            )
        return [tuple(row) for row in rows]
