"""Data access for letters read by the bot: the letters and their pages (the reading queue), and
the deadline of each case (tables in migrations/0014_letters.sql).

The reading (fields and recognised text) and the card summary are content: sealed with the
Cipher like message text. Only the deadline's date is in clear, so that /queue can order by it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime

from bot.core.crypto import Cipher
from bot.core.db import Database, Transaction
from bot.core.outgoing import Envelope, Outgoing

# Photos and documents are pages; a voice message or a video is not.
PAGE_KINDS = ("photo", "document")


@dataclass(frozen=True)
class PendingLetter:
    id: int
    case_id: int
    attempts: int
    created_at: datetime  # the first page arrived
    read_after: datetime | None  # a failed download is tried again from then on
    relayed: bool  # staff have every page: the reading may follow


@dataclass(frozen=True)
class LetterPage:
    message_id: int
    file_id: str | None  # None once retention erased the content


@dataclass(frozen=True)
class NewPage:
    letter_id: int
    album: bool  # more pages of the same album may still come


class LetterRepository:
    def __init__(
        self, db: Database, cipher: Cipher | None = None, outgoing: Outgoing | None = None
    ) -> None:
        self._db = db
        self._cipher = cipher or Cipher()
        self._outgoing = outgoing or Outgoing(db, self._cipher)

    def unit(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction for what belongs together (a letter's reading and the deadline it
        gives its case): every statement of the task inside joins it."""
        return self._db.transaction()

    # -- the reading queue ------------------------------------------------------------------
    async def add_page(self, chat_id: int, message_id: int, now: datetime) -> NewPage | None:
        """The stored resident message (chat, Telegram message id) becomes a page of a letter:
        of its album's letter, or a letter of its own. Idempotent: the same message again (an
        update handled twice after a restart) changes nothing. None when it is no page."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT id, case_id, media_group_id FROM case_messages WHERE source_chat_id = ?"
                " AND source_message_id = ? AND direction = 'in' AND kind IN (?, ?)"
                " AND file_id IS NOT NULL",
                (chat_id, message_id, *PAGE_KINDS),
            )
            if row is None:
                return None
            album = row["media_group_id"] is not None
            page = await tx.fetchone(
                "SELECT letter_id FROM letter_pages WHERE message_id = ?", (row["id"],)
            )
            if page is not None:
                return NewPage(page["letter_id"], album)
            letter_id = None
            if album:
                letter = await tx.fetchone(
                    "SELECT id, status FROM letters WHERE case_id = ? AND group_key = ?",
                    (row["case_id"], row["media_group_id"]),
                )
                if letter is not None and letter["status"] == "pending":
                    letter_id = letter["id"]
                # A page that comes after its album was read is a letter of its own.
                group_key = row["media_group_id"] if letter is None else f"m{row['id']}"
            else:
                group_key = f"m{row['id']}"
            if letter_id is None:
                letter_id = await tx.insert(
                    "INSERT INTO letters (case_id, group_key, created_at) VALUES (?, ?, ?)",
                    (row["case_id"], group_key, now.isoformat()),
                )
            await tx.execute(
                "INSERT INTO letter_pages (message_id, letter_id) VALUES (?, ?)",
                (row["id"], letter_id),
            )
            return NewPage(letter_id, album)

    async def waiting(self, limit: int = 50) -> list[PendingLetter]:
        """Letters still to read, of submitted cases only: staff never see a draft, and a
        discarded draft takes its letters with it. `relayed`: every page is copied to staff
        (or given up on), so the reading may follow the photo."""
        rows = await self._db.fetchall(
            "SELECT l.id, l.case_id, l.attempts, l.created_at, l.read_after,"
            " NOT EXISTS (SELECT 1 FROM letter_pages p JOIN case_messages m"
            " ON m.id = p.message_id WHERE p.letter_id = l.id AND m.relay_status = 'pending')"
            " AS relayed FROM letters l JOIN cases c ON c.id = l.case_id"
            " WHERE l.status = 'pending' AND c.status != 'draft' ORDER BY l.id LIMIT ?",
            (limit,),
        )
        return [
            PendingLetter(
                id=row["id"],
                case_id=row["case_id"],
                attempts=row["attempts"],
                created_at=datetime.fromisoformat(row["created_at"]),
                read_after=datetime.fromisoformat(row["read_after"]) if row["read_after"] else None,
                relayed=bool(row["relayed"]),
            )
            for row in rows
        ]

    async def pages(self, letter_id: int) -> list[LetterPage]:
        rows = await self._db.fetchall(
            "SELECT m.id, m.file_id, c.resident_id AS owner FROM letter_pages p"
            " JOIN case_messages m ON m.id = p.message_id JOIN cases c ON c.id = m.case_id"
            " WHERE p.letter_id = ? ORDER BY m.id",
            (letter_id,),
        )
        # File ids are sealed with the resident's key like the message (bot/privacy/datamap.py).
        return [
            LetterPage(row["id"], await self._cipher.open_for(row["owner"], row["file_id"]))
            for row in rows
        ]

    async def retry_later(self, letter_id: int, after: datetime) -> None:
        await self._db.execute(
            "UPDATE letters SET attempts = attempts + 1, read_after = ? WHERE id = ?",
            (after.isoformat(), letter_id),
        )

    async def finish(
        self,
        letter_id: int,
        status: str,
        now: datetime,
        *,
        reading: str | None = None,
        failure: str | None = None,
        notices: Sequence[Envelope] = (),
    ) -> bool:
        """Read (reading: the JSON to seal), unreadable or not read (failure: reason codes), and
        its notices queued in the same transaction (bot/letters/envelopes.py). False when the
        letter is gone meanwhile (the resident erased their data): nothing is queued then."""
        sealed = await self._cipher.seal_for(await self._owner_of_letter(letter_id), reading)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE letters SET status = ?, reading = ?, failure = ?, read_at = ?,"
                " read_after = NULL WHERE id = ? AND status = 'pending'",
                (status, sealed, failure, now.isoformat(), letter_id),
            )
            if changed:
                await self._outgoing.add(tx, notices, now)
        return changed > 0

    async def reading(self, letter_id: int) -> str | None:
        """The stored reading (JSON), opened."""
        row = await self._db.fetchone(
            "SELECT l.reading, c.resident_id AS owner FROM letters l"
            " JOIN cases c ON c.id = l.case_id WHERE l.id = ?",
            (letter_id,),
        )
        return await self._cipher.open_for(row["owner"], row["reading"]) if row else None

    async def _owner_of_letter(self, letter_id: int) -> int | None:
        """The resident whose key seals the letter's reading (None once they are erased)."""
        row = await self._db.fetchone(
            "SELECT c.resident_id FROM letters l JOIN cases c ON c.id = l.case_id WHERE l.id = ?",
            (letter_id,),
        )
        return row[0] if row else None

    # -- the deadline of a case -------------------------------------------------------------
    async def offer_deadline(
        self,
        case_id: int,
        letter_id: int,
        due: date | None,
        estimated: bool,
        summary: str,
        now: datetime,
    ) -> bool:
        """A letter was read: its deadline becomes the case's when the case has none yet or a
        later one, so the nearest deadline counts (also over what staff set: a new letter is new
        news); a letter without a deadline is shown only while the case has no deadline. False
        when the case keeps what it had."""
        changed = await self._db.execute(
            "INSERT INTO case_deadlines (case_id, due_on, estimated, letter_id, summary, set_by,"
            " set_at, reminded_at) VALUES (?, ?, ?, ?, ?, NULL, ?, NULL)"
            " ON CONFLICT (case_id) DO UPDATE SET due_on = excluded.due_on,"
            " estimated = excluded.estimated, letter_id = excluded.letter_id,"
            " summary = excluded.summary, set_by = NULL, set_at = excluded.set_at,"
            " reminded_at = NULL"
            " WHERE (excluded.due_on IS NOT NULL AND (case_deadlines.due_on IS NULL"
            " OR excluded.due_on < case_deadlines.due_on))"
            " OR (excluded.due_on IS NULL AND case_deadlines.due_on IS NULL)",
            (
                case_id,
                due.isoformat() if due else None,
                int(estimated),
                letter_id,
                await self._cipher.seal_for(await self._owner_of_case(case_id), summary),
                now.isoformat(),
            ),
        )
        return changed > 0

    async def _owner_of_case(self, case_id: int) -> int | None:
        row = await self._db.fetchone("SELECT resident_id FROM cases WHERE id = ?", (case_id,))
        return row[0] if row else None

    async def set_deadline(
        self, case_id: int, due: date | None, staff_id: int, now: datetime
    ) -> None:
        """Staff corrected (a date) or cleared (None) the case's deadline; the letter's details
        stay for the card, the reminder may come again for a new date."""
        await self._db.execute(
            "INSERT INTO case_deadlines (case_id, due_on, estimated, set_by, set_at)"
            " VALUES (?, ?, 0, ?, ?) ON CONFLICT (case_id) DO UPDATE SET"
            " due_on = excluded.due_on, estimated = 0, set_by = excluded.set_by,"
            " set_at = excluded.set_at, reminded_at = NULL",
            (case_id, due.isoformat() if due else None, staff_id, now.isoformat()),
        )

    async def due_for_reminder(self, last_day: date, limit: int = 20) -> list[int]:
        """Open cases whose deadline is on or before `last_day` (overdue ones too), not reminded
        yet, and without a staff answer since the deadline became known."""
        rows = await self._db.fetchall(
            "SELECT d.case_id FROM case_deadlines d JOIN cases c ON c.id = d.case_id"
            " WHERE d.due_on IS NOT NULL AND d.reminded_at IS NULL AND d.due_on <= ?"
            " AND c.status IN ('new', 'open', 'waiting') AND c.resident_id IS NOT NULL"
            " AND NOT EXISTS (SELECT 1 FROM case_messages m WHERE m.case_id = d.case_id"
            " AND m.direction = 'out' AND m.created_at >= d.set_at)"
            " ORDER BY d.due_on, d.case_id LIMIT ?",
            (last_day.isoformat(), limit),
        )
        return [row["case_id"] for row in rows]

    async def claim_reminder(
        self, case_id: int, now: datetime, notices: Sequence[Envelope] = ()
    ) -> bool:
        """Mark the reminder as sent and queue it in one transaction: at most once, also across
        a restart; the courier retries the sending."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "UPDATE case_deadlines SET reminded_at = ? WHERE case_id = ?"
                " AND reminded_at IS NULL",
                (now.isoformat(), case_id),
            )
            if claimed:
                await self._outgoing.add(tx, notices, now)
        return claimed > 0

    async def open_cases_with_deadline(self) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT d.case_id FROM case_deadlines d JOIN cases c ON c.id = d.case_id"
            " WHERE d.due_on IS NOT NULL AND c.status IN ('new', 'open', 'waiting')"
            " ORDER BY d.case_id"
        )
        return [row["case_id"] for row in rows]

    async def claim_cards_day(self, day: date) -> bool:
        """True the first time `day` is claimed (the cards are renewed once that day)."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "INSERT OR IGNORE INTO deadline_card_days (day) VALUES (?)", (day.isoformat(),)
            )
            await tx.execute("DELETE FROM deadline_card_days WHERE day < ?", (day.isoformat(),))
        return claimed > 0
