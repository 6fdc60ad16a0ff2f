"""Data access for cases, their messages, reply targets and the audit log.

What a change makes the bot send (a copy, a new topic, the resident's confirmation …) is queued
in the same transaction as the change (bot/cases/envelopes.py, bot/core/outgoing.py): a kill
between the two cannot lose it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.cases import envelopes
from bot.core.crypto import Cipher, ContentLocked
from bot.core.db import Database, Transaction
from bot.core.outgoing import Envelope, Lane, Outgoing

logger = logging.getLogger(__name__)

TOPICS = ("debt", "housing", "letter", "job", "family", "other")
OPEN_STATUSES = ("new", "open", "waiting")
# A deadline this many days ahead (or past) is flagged in /queue and reminded to staff.
DUE_SOON_DAYS = 3


@dataclass(frozen=True)
class CaseDeadline:
    """The deadline of a case and the letter it comes from (bot/letters; table case_deadlines):
    the nearest one read from the case's letters, or what staff set with /frist."""

    due: date | None  # None: no deadline (none found, or staff cleared a wrong one)
    estimated: bool  # counted from receipt or the letter date: an estimate, never certain
    by_staff: bool  # corrected or cleared by staff
    sender: str | None  # German name of the sender kind, e.g. "Jobcenter"
    reference: str | None  # e.g. "Az. 123/45"
    wording: str | None  # the letter's own words, e.g. "innerhalb von 14 Tagen nach Zugang"
    as_of: date | None = None  # the local day the case was loaded: "in 3 days" counts from it

    @property
    def days_left(self) -> int | None:
        if self.due is None or self.as_of is None:
            return None
        return (self.due - self.as_of).days

    @property
    def due_soon(self) -> bool:
        """Due within DUE_SOON_DAYS, or overdue."""
        days = self.days_left
        return days is not None and days <= DUE_SOON_DAYS


@dataclass(frozen=True)
class Case:
    id: int
    resident_id: int | None
    status: str
    topic: str | None
    district: str | None
    language: str
    first_name: str | None
    assignee_id: int | None
    urgent: bool
    thread_id: int | None
    card_message_id: int | None
    topic_title: str | None
    resident_blocked: bool
    created_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None
    resident_chat_id: int | None = None
    # Self-help answers offered before this draft was submitted (ids, in the order shown).
    suggested: tuple[str, ...] = ()
    deadline: CaseDeadline | None = None  # from a letter read by the bot, or set by staff

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class CaseMessage:
    id: int
    case_id: int
    direction: str
    sender_id: int
    kind: str
    text: str | None
    file_id: str | None
    media_group_id: str | None
    source_chat_id: int
    source_message_id: int
    relay_status: str
    relay_attempts: int
    relay_error: str | None
    relayed_message_id: int | None
    template_key: str | None
    created_at: datetime


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    messages: int


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _case(row) -> Case:
    keys = row.keys()
    return Case(
        id=row["id"],
        resident_id=row["resident_id"],
        status=row["status"],
        topic=row["topic"],
        district=row["district"],
        language=row["language"],
        first_name=row["first_name"],
        assignee_id=row["assignee_id"],
        urgent=bool(row["urgent"]),
        thread_id=row["thread_id"],
        card_message_id=row["card_message_id"],
        topic_title=row["topic_title"],
        resident_blocked=bool(row["resident_blocked"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        submitted_at=_time(row["submitted_at"]),
        closed_at=_time(row["closed_at"]),
        resident_chat_id=row["resident_chat_id"] if "resident_chat_id" in keys else None,
        suggested=tuple(filter(None, (row["suggested"] or "").split(",")))
        if "suggested" in keys
        else (),
    )


def _message(row) -> CaseMessage:
    return CaseMessage(
        id=row["id"],
        case_id=row["case_id"],
        direction=row["direction"],
        sender_id=row["sender_id"],
        kind=row["kind"],
        text=row["text"],
        file_id=row["file_id"],
        media_group_id=row["media_group_id"],
        source_chat_id=row["source_chat_id"],
        source_message_id=row["source_message_id"],
        relay_status=row["relay_status"],
        relay_attempts=row["relay_attempts"],
        relay_error=row["relay_error"],
        relayed_message_id=row["relayed_message_id"],
        template_key=row["template_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


# A message with the resident its case belongs to: the owner of the key it is sealed with.
MESSAGE_COLUMNS = (
    "m.*, c.resident_id AS owner FROM case_messages m JOIN cases c ON c.id = m.case_id"
)
CASE_SELECT = (
    "SELECT cases.*, residents.chat_id AS resident_chat_id, d.due_on AS deadline_on,"
    " d.estimated AS deadline_estimated, d.set_by AS deadline_set_by,"
    " d.summary AS deadline_summary, d.set_at AS deadline_set_at FROM cases"
    " LEFT JOIN residents ON residents.user_id = cases.resident_id"
    " LEFT JOIN case_deadlines d ON d.case_id = cases.id"
)


class CaseRepository:
    def __init__(
        self,
        db: Database,
        cipher: Cipher | None = None,
        outgoing: Outgoing | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._db = db
        self._cipher = cipher or Cipher()
        self._outgoing = outgoing or Outgoing(db, self._cipher)
        # The local day, so that a case's deadline can say "in 3 days" (case card, /queue).
        self._today = today

    def unit(self) -> AbstractAsyncContextManager[Transaction]:
        """One transaction for a whole step (a resident's press or message): every statement
        of the task inside joins it, so the step costs one commit (one wait for the disk), and
        it is written whole or not at all."""
        return self._db.transaction()

    async def _message(self, row) -> CaseMessage:
        """Every message of a case, staff's included, is sealed with its resident's key: the
        text, and the file id (with the bot's token it fetches the photo from Telegram)."""
        message = _message(row)
        owner = row["owner"]
        return replace(
            message,
            text=await self._cipher.open_for(owner, message.text),
            file_id=await self._cipher.open_for(owner, message.file_id),
        )

    async def _case(self, row) -> Case:
        case = _case(row)
        case = replace(
            case, first_name=await self._cipher.open_for(case.resident_id, case.first_name)
        )
        if "deadline_set_at" not in row.keys() or row["deadline_set_at"] is None:
            return case
        try:
            summary = json.loads(
                await self._cipher.open_for(case.resident_id, row["deadline_summary"]) or "{}"
            )
        except ContentLocked:
            # The date is in clear; the letter's details need the key like all content.
            logger.warning(
                "deadline details of case %s are locked: set THINKA_ENCRYPTION_KEY", case.id
            )
            summary = {}
        deadline = CaseDeadline(
            due=date.fromisoformat(row["deadline_on"]) if row["deadline_on"] else None,
            estimated=bool(row["deadline_estimated"]),
            by_staff=row["deadline_set_by"] is not None,
            sender=summary.get("sender"),
            reference=summary.get("reference"),
            wording=summary.get("wording"),
            as_of=self._today() if self._today is not None else None,
        )
        return replace(case, deadline=deadline)

    # -- reading ----------------------------------------------------------------------------
    async def get(self, case_id: int) -> Case | None:
        row = await self._db.fetchone(f"{CASE_SELECT} WHERE cases.id = ?", (case_id,))
        return await self._case(row) if row else None

    async def by_thread(self, thread_id: int) -> Case | None:
        row = await self._db.fetchone(f"{CASE_SELECT} WHERE cases.thread_id = ?", (thread_id,))
        return await self._case(row) if row else None

    async def current_for(self, resident_id: int) -> Case | None:
        """The resident's latest case that is not closed (a draft included)."""
        row = await self._db.fetchone(
            f"{CASE_SELECT} WHERE cases.resident_id = ? AND cases.status != 'closed'"
            " ORDER BY cases.id DESC LIMIT 1",
            (resident_id,),
        )
        return await self._case(row) if row else None

    async def for_resident(self, resident_id: int, limit: int = 20) -> list[Case]:
        rows = await self._db.fetchall(
            f"{CASE_SELECT} WHERE cases.resident_id = ? AND cases.status != 'draft'"
            " ORDER BY cases.id DESC LIMIT ?",
            (resident_id, limit),
        )
        return [await self._case(row) for row in rows]

    async def queue(self, limit: int = 30) -> list[QueueEntry]:
        """Open cases: urgent first, then by nearest deadline (a letter's, or set by staff),
        then oldest first. The open cases are sorted by their keys alone, read from the index
        cases_queue and the deadlines, and only the `limit` shown are read whole and have
        their messages counted: sorting thousands of whole rows (each joined with its
        resident) was most of /queue's time (bench/scale.py, 5,000 open cases: 9.5 ms of CPU
        before, 1.5 ms after)."""
        rows = await self._db.fetchall(
            f"SELECT q.*, (SELECT COUNT(*) FROM case_messages m WHERE m.case_id = q.id"
            f" AND m.direction = 'in') AS n FROM ({CASE_SELECT} WHERE cases.id IN"
            " (SELECT c.id FROM cases c LEFT JOIN case_deadlines k ON k.case_id = c.id"
            " WHERE c.status IN ('new', 'open', 'waiting')"
            " ORDER BY c.urgent DESC, k.due_on IS NULL, k.due_on ASC,"
            " c.submitted_at ASC, c.id ASC LIMIT ?)) AS q"
            " ORDER BY q.urgent DESC, q.deadline_on IS NULL, q.deadline_on ASC,"
            " q.submitted_at ASC, q.id ASC",
            (limit,),
        )
        return [QueueEntry(await self._case(row), row["n"]) for row in rows]

    async def messages(self, case_id: int, limit: int = 50) -> list[CaseMessage]:
        rows = await self._db.fetchall(
            f"SELECT * FROM (SELECT {MESSAGE_COLUMNS} WHERE m.case_id = ? ORDER BY m.id DESC"
            " LIMIT ?) ORDER BY id",
            (case_id, limit),
        )
        return [await self._message(row) for row in rows]

    async def message(self, message_id: int) -> CaseMessage | None:
        row = await self._db.fetchone(f"SELECT {MESSAGE_COLUMNS} WHERE m.id = ?", (message_id,))
        return await self._message(row) if row else None

    # -- writing ----------------------------------------------------------------------------
    async def create_draft(
        self,
        resident_id: int,
        language: str,
        first_name: str | None,
        now: datetime,
        topic: str | None = None,
        district: str | None = None,
    ) -> Case:
        sealed_name = await self._cipher.seal_for(resident_id, first_name)
        async with self._db.transaction() as tx:
            case_id = await tx.insert(
                "INSERT INTO cases (resident_id, language, first_name, topic, district,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (resident_id, language, sealed_name, topic, district, now.isoformat()),
            )
        case = await self.get(case_id)
        assert case is not None
        return case

    async def set_topic(self, case_id: int, topic: str) -> None:
        await self._db.execute("UPDATE cases SET topic = ? WHERE id = ?", (topic, case_id))

    async def set_language(self, resident_id: int, language: str) -> list[int]:
        """The resident switched language: cases still open follow (canned replies, topic)."""
        rows = await self._db.fetchall(
            "UPDATE cases SET language = ? WHERE resident_id = ? AND status != 'closed'"
            " RETURNING id",
            (language, resident_id),
        )
        return [row[0] for row in rows]

    async def set_district(self, case_id: int, district: str) -> None:
        await self._db.execute("UPDATE cases SET district = ? WHERE id = ?", (district, case_id))

    async def add_message(
        self,
        case_id: int,
        *,
        direction: str,
        sender_id: int,
        kind: str,
        text: str | None,
        file_id: str | None,
        media_group_id: str | None,
        source_chat_id: int,
        source_message_id: int,
        relay_status: str,
        now: datetime,
        template_key: str | None = None,
        outgoing: Callable[[int], Iterable[Envelope]] | None = None,
    ) -> int | None:
        """Store a message; None when that Telegram message was stored before (a duplicate).
        `outgoing(message id)` is what it makes the bot send, queued with it."""
        row = await self._db.fetchone("SELECT resident_id FROM cases WHERE id = ?", (case_id,))
        owner = row[0] if row else None
        sealed = await self._cipher.seal_for(owner, text)
        sealed_file = await self._cipher.seal_for(owner, file_id)
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT OR IGNORE INTO case_messages (case_id, direction, sender_id, kind, text,"
                " file_id, media_group_id, source_chat_id, source_message_id, relay_status,"
                " template_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    case_id,
                    direction,
                    sender_id,
                    kind,
                    sealed,
                    sealed_file,
                    media_group_id,
                    source_chat_id,
                    source_message_id,
                    relay_status,
                    template_key,
                    now.isoformat(),
                ),
            )
            if not changed:
                return None
            row = await tx.fetchone("SELECT last_insert_rowid()")
            if outgoing is not None:
                await self._outgoing.add(tx, outgoing(row[0]), now)
            return row[0]

    async def set_suggested(
        self, case_id: int, answer_ids: list[str], now: datetime, offer: bool = True
    ) -> None:
        """Remember the quick answers for this draft and queue the offer to the resident."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE cases SET suggested = ? WHERE id = ? AND status = 'draft'",
                (",".join(answer_ids), case_id),
            )
            target = await self._resident_of(tx, case_id)
            if changed and offer and target is not None:
                await self._outgoing.add(tx, [envelopes.offer(case_id, *target)], now)

    async def _resident_of(self, tx: Transaction, case_id: int) -> tuple[int, int] | None:
        """(resident, their chat) of a case, while they have not deleted their data."""
        row = await tx.fetchone(
            "SELECT r.user_id, r.chat_id FROM cases c JOIN residents r ON r.user_id ="
            " c.resident_id WHERE c.id = ?",
            (case_id,),
        )
        return (row[0], row[1]) if row else None

    async def discard_draft(self, case_id: int) -> bool:
        """A draft the resident no longer needs (a self-help answer helped): gone, with what
        they wrote; staff never saw it. Submitted cases are never discarded."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT status FROM cases WHERE id = ?", (case_id,))
            if row is None or row[0] != "draft":
                return False
            await tx.execute("DELETE FROM case_messages WHERE case_id = ?", (case_id,))
            await tx.execute("DELETE FROM cases WHERE id = ?", (case_id,))
        return True

    async def submit(self, case_id: int, now: datetime, relay: bool, confirm: bool = True) -> bool:
        """draft -> new. With a staff group (`relay`) its topic, card and the copies of what the
        resident wrote are queued; with `confirm`, the resident's confirmation. False if it was
        not a draft."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE cases SET status = 'new', submitted_at = ? WHERE id = ?"
                " AND status = 'draft'",
                (now.isoformat(), case_id),
            )
            if not changed:
                return False
            resident = await self._resident_of(tx, case_id)
            queued: list[Envelope] = []
            if relay:
                row = await tx.fetchone("SELECT urgent FROM cases WHERE id = ?", (case_id,))
                queued += envelopes.new_topic(case_id, resident[0] if resident else None)
                rows = await tx.fetchall(
                    "UPDATE case_messages SET relay_status = 'pending' WHERE case_id = ?"
                    " AND relay_status = 'none' AND direction = 'in' RETURNING id",
                    (case_id,),
                )
                if resident is not None:
                    queued += [
                        envelopes.copy_to_topic(message_id, case_id, resident[0], bool(row[0]))
                        for message_id in sorted(r[0] for r in rows)
                    ]
            if confirm and resident is not None:
                queued.append(envelopes.confirmation(case_id, *resident))
            await self._outgoing.add(tx, queued, now)
        return True

    async def set_status(
        self,
        case_id: int,
        status: str,
        now: datetime,
        *,
        from_statuses: tuple[str, ...],
        tell_resident: bool = False,
    ) -> bool:
        """With `tell_resident` (closing), the resident's notice is queued with the change."""
        placeholders = ",".join("?" * len(from_statuses))
        closed_at = now.isoformat() if status == "closed" else None
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                f"UPDATE cases SET status = ?, closed_at = ? WHERE id = ?"
                f" AND status IN ({placeholders})",
                (status, closed_at, case_id, *from_statuses),
            )
            resident = await self._resident_of(tx, case_id) if changed and tell_resident else None
            if resident is not None:
                closings = await tx.fetchone(
                    "SELECT COUNT(*) FROM audit_log WHERE case_id = ? AND action = 'close'",
                    (case_id,),
                )
                await self._outgoing.add(
                    tx, [envelopes.closed(case_id, *resident, closings[0])], now
                )
        return changed > 0

    async def assign(self, case_id: int, staff_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE cases SET assignee_id = ?, status = CASE WHEN status = 'new' THEN 'open'"
            " ELSE status END WHERE id = ? AND status IN ('new', 'open', 'waiting')",
            (staff_id, case_id),
        )
        return changed > 0

    # The courier's hooks: run inside the transaction that records what Telegram did.
    async def set_thread(self, tx: Transaction, case_id: int, thread_id: int, title: str) -> None:
        await tx.execute(
            "UPDATE cases SET thread_id = ?, topic_title = ? WHERE id = ?",
            (thread_id, title, case_id),
        )

    async def clear_thread(self, tx: Transaction, case_id: int, now: datetime) -> None:
        """The forum topic is gone: a new one is opened and the messages copied there again."""
        await tx.execute(
            "UPDATE cases SET thread_id = NULL, card_message_id = NULL, topic_title = NULL"
            " WHERE id = ?",
            (case_id,),
        )
        rows = await tx.fetchall(
            "UPDATE case_messages SET relay_status = 'pending' WHERE case_id = ?"
            " AND direction = 'in' AND relay_status IN ('sent', 'pending') RETURNING id",
            (case_id,),
        )
        case = await tx.fetchone("SELECT resident_id, urgent FROM cases WHERE id = ?", (case_id,))
        queued = envelopes.new_topic(case_id, case[0] if case else None)
        if case is not None and case[0] is not None:
            queued += [
                envelopes.copy_to_topic(message_id, case_id, case[0], bool(case[1]))
                for message_id in sorted(r[0] for r in rows)
            ]
        await self._outgoing.add(tx, queued, now)

    async def set_card(self, tx: Transaction, case_id: int, message_id: int) -> None:
        await tx.execute("UPDATE cases SET card_message_id = ? WHERE id = ?", (message_id, case_id))

    async def ensure_topics(self, now: datetime) -> int:
        """Open cases without a forum topic get one queued (a staff group configured later);
        returns how many."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT id, resident_id FROM cases WHERE status IN ('new', 'open', 'waiting')"
                " AND thread_id IS NULL AND resident_id IS NOT NULL"
            )
            queued = [e for row in rows for e in envelopes.new_topic(row[0], row[1])]
            added = await self._outgoing.add(tx, queued, now)
        return added

    async def set_topic_title(self, case_id: int, title: str) -> None:
        await self._db.execute("UPDATE cases SET topic_title = ? WHERE id = ?", (title, case_id))

    async def mark_urgent(self, case_id: int) -> bool:
        """Urgent: 🆘, first in /queue, and its copies go ahead of other residents'."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE cases SET urgent = 1 WHERE id = ? AND urgent = 0", (case_id,)
            )
            if changed:
                await self._outgoing.hurry(tx, case_id, Lane.COPY, Lane.URGENT)
        return changed > 0

    async def mark_resident_blocked(self, resident_id: int, blocked: bool) -> None:
        await self._db.execute(
            "UPDATE cases SET resident_blocked = ? WHERE resident_id = ?",
            (int(blocked), resident_id),
        )

    async def mark_relayed(
        self, tx: Transaction, message_id: int, chat_id: int, relayed_id: int | None
    ) -> None:
        await tx.execute(
            "UPDATE case_messages SET relay_status = 'sent', relayed_chat_id = ?,"
            " relayed_message_id = ?, relay_attempts = relay_attempts + 1, relay_error = NULL"
            " WHERE id = ?",
            (chat_id, relayed_id, message_id),
        )

    async def mark_undelivered(
        self, tx: Transaction, message_id: int, status: str, error: str
    ) -> None:
        """'failed' (refused) or 'uncertain' (Telegram did not confirm it)."""
        await tx.execute(
            "UPDATE case_messages SET relay_status = ?, relay_error = ?,"
            " relay_attempts = relay_attempts + 1 WHERE id = ?",
            (status, error, message_id),
        )

    async def mark_chat_blocked(self, tx: Transaction, user_id: int) -> None:
        """A 403 from the resident's chat: they blocked the bot (until they write again)."""
        await tx.execute("UPDATE residents SET blocked = 1 WHERE user_id = ?", (user_id,))
        await tx.execute("UPDATE cases SET resident_blocked = 1 WHERE resident_id = ?", (user_id,))

    # -- staff ------------------------------------------------------------------------------
    async def audit(self, staff_id: int, action: str, case_id: int | None, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO audit_log (staff_id, action, case_id, at) VALUES (?, ?, ?, ?)",
            (staff_id, action, case_id, now.isoformat()),
        )

    async def audit_trail(self, case_id: int) -> list[tuple[int, str, datetime]]:
        rows = await self._db.fetchall(
            "SELECT staff_id, action, at FROM audit_log WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [(row["staff_id"], row["action"], datetime.fromisoformat(row["at"])) for row in rows]

    async def set_reply_target(self, staff_id: int, case_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO staff_reply_targets (staff_id, case_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (staff_id) DO UPDATE SET case_id = excluded.case_id,"
            " created_at = excluded.created_at",
            (staff_id, case_id, now.isoformat()),
        )

    async def has_reply_target(self, staff_id: int) -> bool:
        """Every private message passes here: a plain read, no write."""
        row = await self._db.fetchone(
            "SELECT 1 FROM staff_reply_targets WHERE staff_id = ?", (staff_id,)
        )
        return row is not None

    async def take_reply_target(self, staff_id: int) -> tuple[int, datetime] | None:
        """The case the staff member chose to answer and when; the choice is used up."""
        if not await self.has_reply_target(staff_id):
            return None
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT case_id, created_at FROM staff_reply_targets WHERE staff_id = ?",
                (staff_id,),
            )
            if row is None:
                return None
            await tx.execute("DELETE FROM staff_reply_targets WHERE staff_id = ?", (staff_id,))
            return row["case_id"], datetime.fromisoformat(row["created_at"])

    # -- residents --------------------------------------------------------------------------
    async def set_resident_district(self, resident_id: int, district: str) -> None:
        await self._db.execute(
            "UPDATE residents SET district = ? WHERE user_id = ?", (district, resident_id)
        )
