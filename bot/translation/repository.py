"""Stored translations (sealed at rest like message text) and the residents' choice.

SQL lives here. The table is also the cache: a translation is found again by the keyed
fingerprint of its original, and goes when the message it belongs to goes
(migrations/0013_translations.sql says which ids the tables hold for erasure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.crypto import Cipher
from bot.core.db import Database

# A translation with the resident whose case it is: the owner of the key it is sealed with.
_COLUMNS = (
    "t.*, c.resident_id AS owner FROM message_translations t JOIN cases c ON c.id = t.case_id"
)


@dataclass(frozen=True)
class StoredTranslation:
    message_id: int
    source: str
    target: str
    complete: bool
    provider: str
    text: str
    # Set when the translation failed (a Failure value): the message keeps that outcome, so a
    # delivery retried or sent again sends the same text (migrations/0015).
    failure: str | None = None


class TranslationRepository:
    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    def digest(self, requested_source: str | None, target: str, text: str) -> str:
        return self._cipher.digest(f"{requested_source or 'auto'}\x1f{target}\x1f{text}")

    async def _row(self, row) -> StoredTranslation:
        return StoredTranslation(
            message_id=row["message_id"],
            source=row["source"],
            target=row["target"],
            complete=bool(row["complete"]),
            provider=row["provider"],
            # Sealed with the key of the resident whose case it is, like the message itself.
            text=await self._cipher.open_for(row["owner"], row["text"]) or "",
            failure=row["failure"],
        )

    async def find(self, message_id: int, target: str) -> StoredTranslation | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} WHERE t.message_id = ? AND t.target = ?",
            (message_id, target),
        )
        return await self._row(row) if row else None

    async def by_digest(self, digest: str) -> StoredTranslation | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} WHERE t.digest = ? AND t.failure IS NULL"
            " ORDER BY t.id DESC LIMIT 1",
            (digest,),
        )
        return await self._row(row) if row else None

    async def for_case(self, case_id: int, target: str) -> dict[int, StoredTranslation]:
        """message id -> its translation into `target`, or the failure remembered for it
        (the case view in /queue, the digest)."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} WHERE t.case_id = ? AND t.target = ?",
            (case_id, target),
        )
        return {row["message_id"]: await self._row(row) for row in rows}

    async def save(
        self,
        message_id: int,
        case_id: int,
        translation: StoredTranslation,
        digest: str,
        now: datetime,
    ) -> None:
        # A message that is gone by now (erased while its translation was under way) keeps
        # nothing: the SELECT finds no row and nothing is inserted.
        owner = await self._db.fetchone("SELECT resident_id FROM cases WHERE id = ?", (case_id,))
        if owner is None:
            return
        await self._db.execute(
            "INSERT INTO message_translations (message_id, case_id, source, target, complete,"
            " provider, digest, text, created_at, failure)"
            " SELECT m.id, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            " FROM case_messages m WHERE m.id = ? AND m.case_id = ?"
            " ON CONFLICT (message_id, target) DO NOTHING",
            (
                case_id,
                translation.source,
                translation.target,
                int(translation.complete),
                translation.provider,
                digest,
                await self._cipher.seal_for(owner[0], translation.text),
                now.isoformat(),
                translation.failure,
                message_id,
                case_id,
            ),
        )

    async def own_messages(self, resident_id: int) -> bool:
        row = await self._db.fetchone(
            "SELECT own_messages FROM translation_preferences WHERE resident_id = ?",
            (resident_id,),
        )
        return True if row is None else bool(row[0])

    async def set_own_messages(self, resident_id: int, enabled: bool, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO translation_preferences (resident_id, own_messages, updated_at)"
            " VALUES (?, ?, ?) ON CONFLICT (resident_id) DO UPDATE SET"
            " own_messages = excluded.own_messages, updated_at = excluded.updated_at",
            (resident_id, int(enabled), now.isoformat()),
        )
