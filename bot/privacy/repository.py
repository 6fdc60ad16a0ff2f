"""A resident's data in the database: what /mydata shows, erasure (of a resident, and of an
old case's content), key rotation and the retention queries. SQL lives here.

Which table holds what is mapped in bot/privacy/datamap.py; tests/test_datamap.py checks that
every table holding a resident's data has its step below.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.core.crypto import OWN_PREFIX, Cipher
from bot.core.db import Database


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


OF_THEIR_CASES = "(SELECT id FROM cases WHERE resident_id = :user)"
# Erasing one resident, in this order, in one transaction (:user, :now). Their cases stay as
# anonymous rows (topic, language, dates) so that the figures keep counting them.
RESIDENT_ERASURE: tuple[tuple[str, str], ...] = (
    # Machine translations of their messages and of the answers to them (bot/translation).
    (
        "message_translations",
        f"DELETE FROM message_translations WHERE case_id IN {OF_THEIR_CASES}",
    ),
    (
        "translation_preferences",
        "DELETE FROM translation_preferences WHERE resident_id = :user",
    ),
    # What the bot read from their letters (the pages go with the messages) and the deadlines.
    ("letters", f"DELETE FROM letters WHERE case_id IN {OF_THEIR_CASES}"),
    ("case_deadlines", f"DELETE FROM case_deadlines WHERE case_id IN {OF_THEIR_CASES}"),
    ("case_messages", f"DELETE FROM case_messages WHERE case_id IN {OF_THEIR_CASES}"),
    ("staff_reply_targets", f"DELETE FROM staff_reply_targets WHERE case_id IN {OF_THEIR_CASES}"),
    # Appointments: the note is their words; open ones are cancelled, their seats freed.
    (
        "slot_seats",
        "DELETE FROM slot_seats WHERE appointment_id IN (SELECT a.id FROM appointments a"
        " JOIN cases c ON c.id = a.case_id WHERE c.resident_id = :user)",
    ),
    (
        "appointments",
        "UPDATE appointments SET note = NULL, updated_at = :now, status = CASE WHEN status"
        " IN ('requested', 'proposed', 'confirmed') THEN 'cancelled' ELSE status END"
        f" WHERE case_id IN {OF_THEIR_CASES}",
    ),
    # What the bot was to send (bot/core/outgoing.py): nothing more is sent to or about them,
    # and no row keeps their chat. Announcements to many stay counted, tied to nobody.
    # Three statements, not one with OR: each finds its rows through an index.
    ("outgoing", "DELETE FROM outgoing WHERE resident_id = :user AND batch_id IS NULL"),
    ("outgoing", "DELETE FROM outgoing WHERE chat_id = :user AND batch_id IS NULL"),
    ("outgoing", f"DELETE FROM outgoing WHERE case_id IN {OF_THEIR_CASES}"),
    (
        "outgoing",
        # The key of an announcement's row names the recipient ("broadcast:3:<user id>").
        "UPDATE outgoing SET resident_id = NULL, chat_id = NULL, key = NULL, status = CASE"
        " WHEN status IN ('pending', 'sending') THEN 'cancelled' ELSE status END"
        " WHERE resident_id = :user",
    ),
    # Updates of theirs put aside with their content (quarantined, parked: bot/transport/
    # inbox.py) go; handled ones keep their update_id (to recognise a redelivery), not the chat.
    (
        "inbox",
        "DELETE FROM inbox WHERE chat_id = :user AND state IN ('quarantined', 'parked')",
    ),
    ("inbox", "UPDATE inbox SET chat_id = NULL WHERE chat_id = :user"),
    # Staff notices quote the appointment and its note.
    ("staff_notices", f"DELETE FROM staff_notices WHERE case_id IN {OF_THEIR_CASES}"),
    ("cases", "DELETE FROM cases WHERE resident_id = :user AND status = 'draft'"),
    (
        "cases",
        "UPDATE cases SET first_name = NULL, resident_id = NULL, status = 'closed',"
        " closed_at = COALESCE(closed_at, :now) WHERE resident_id = :user",
    ),
    ("appointment_drafts", "DELETE FROM appointment_drafts WHERE resident_id = :user"),
    ("subscriptions", "DELETE FROM subscriptions WHERE resident_id = :user"),
    # "event_id IN (all events)" lets SQLite seek the primary key (event, resident) per event
    # instead of reading the whole table.
    (
        "rsvps",
        "DELETE FROM rsvps WHERE event_id IN (SELECT id FROM events) AND resident_id = :user",
    ),
    ("residents", "DELETE FROM residents WHERE user_id = :user"),
)
# Raw updates still holding their payload (waiting to be handled): the resident's go with them:
# (table, key column, payload column, SQL that empties one row by :key). They are sealed with the
# main key, so they are read here and matched in Python, not in SQL.
SENDER_ERASURE: tuple[tuple[str, str, str, str], ...] = (
    (
        "inbox",
        "update_id",
        "payload",
        "UPDATE inbox SET payload = NULL, chat_id = NULL, done_at = COALESCE(done_at, :now),"
        " state = CASE WHEN state = 'pending' THEN 'done' ELSE state END WHERE update_id = :key",
    ),
)

# Erasing an old case's content (retention, :case); the case row stays.
CASE_ERASURE: tuple[tuple[str, str], ...] = (
    ("message_translations", "DELETE FROM message_translations WHERE case_id = :case"),
    ("letters", "DELETE FROM letters WHERE case_id = :case"),
    ("case_deadlines", "DELETE FROM case_deadlines WHERE case_id = :case"),
    (
        "case_messages",
        "UPDATE case_messages SET text = NULL, file_id = NULL WHERE case_id = :case"
        " AND (text IS NOT NULL OR file_id IS NOT NULL)",
    ),
    ("appointments", "UPDATE appointments SET note = NULL WHERE case_id = :case"),
    ("staff_notices", "DELETE FROM staff_notices WHERE case_id = :case"),
    # Queued copies, answers and notices of the case (bot/core/outgoing.py).
    ("outgoing", "DELETE FROM outgoing WHERE case_id = :case"),
    (
        "cases",
        "UPDATE cases SET thread_id = NULL, card_message_id = NULL, first_name = NULL"
        " WHERE id = :case",
    ),
)

# What is sealed with a resident's key: (table, row key, column, the row's resident in SQL).
OWNER_OF_CASE = "(SELECT resident_id FROM cases WHERE cases.id = {table}.case_id)"
SEALED_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("case_messages", "id", "text", OWNER_OF_CASE.format(table="case_messages")),
    ("case_messages", "id", "file_id", OWNER_OF_CASE.format(table="case_messages")),
    ("cases", "id", "first_name", "resident_id"),
    ("appointments", "id", "note", OWNER_OF_CASE.format(table="appointments")),
    ("appointment_drafts", "resident_id", "note", "resident_id"),
    ("staff_notices", "id", "text", OWNER_OF_CASE.format(table="staff_notices")),
    (
        "message_translations",
        "id",
        "text",
        OWNER_OF_CASE.format(table="message_translations"),
    ),
    ("letters", "id", "reading", OWNER_OF_CASE.format(table="letters")),
    ("case_deadlines", "case_id", "summary", OWNER_OF_CASE.format(table="case_deadlines")),
    # Queued texts (answers, notices): sealed when they hold text, clear JSON otherwise.
    ("outgoing", "id", "content", "resident_id"),
)
# What is sealed with the main key: nobody's key yet.
MAIN_KEY_COLUMNS: tuple[tuple[str, str, str], ...] = (("inbox", "update_id", "payload"),)


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw or "{}")
    except ValueError:
        return {}  # not an update anybody could have sent: nothing of theirs to find


def _sent_by(update: Any, user_id: int) -> bool:
    """Whether a raw update (JSON) comes from, or is about, `user_id`."""
    if isinstance(update, dict):
        for key in ("from", "chat", "user", "sender_chat"):
            person = update.get(key)
            if isinstance(person, dict) and person.get("id") == user_id:
                return True
        return any(_sent_by(value, user_id) for value in update.values())
    if isinstance(update, list):
        return any(_sent_by(value, user_id) for value in update)
    return False


class PersonalDataRepository:
    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    async def erase_resident(self, user_id: int, now: datetime) -> bool:
        """Everything of the resident, in one transaction (their key too, when there is a key
        file); False when there was no such resident."""
        theirs = []
        for table, key, payload, empty in SENDER_ERASURE:
            waiting = await self._db.fetchall(
                f"SELECT {key}, {payload} FROM {table} WHERE {payload} IS NOT NULL"
            )
            theirs += [
                (empty, {"key": row[0], "now": _iso(now)})
                for row in waiting
                if _sent_by(_json(self._cipher.open(row[1])), user_id)
            ]
        params = {"user": user_id, "now": _iso(now)}
        async with self._db.transaction() as tx:
            found = await tx.fetchone("SELECT 1 FROM residents WHERE user_id = ?", (user_id,))
            for _table, sql in RESIDENT_ERASURE:
                await tx.execute(sql, params)
            for sql, row in theirs:
                await tx.execute(sql, row)
            if self._cipher.store is not None:
                await self._cipher.store.forget(tx, user_id, now)
        return found is not None

    async def erase_case_content(self, case_id: int) -> int:
        """Message content, notes and notices of a closed case; the case row stays."""
        erased = 0
        async with self._db.transaction() as tx:
            for table, sql in CASE_ERASURE:
                changed = await tx.execute(sql, {"case": case_id})
                erased += changed if table == "case_messages" else 0
        return erased

    async def resident_ids(self) -> list[int]:
        rows = await self._db.fetchall("SELECT user_id FROM residents")
        return [row[0] for row in rows]

    async def rotate(self, cipher: Cipher) -> int:
        """Key rotation: the resident keys re-wrapped with the first key; what is still in
        clear or sealed with the main key sealed with its resident's key; the main key's own
        values re-encrypted with the first key. Returns how many values changed."""
        changed = await cipher.store.rewrap(cipher.master) if cipher.store and cipher.master else 0
        for table, key, column, owner in SEALED_COLUMNS:
            rows = await self._db.fetchall(
                f"SELECT {key}, {column}, {owner} FROM {table} WHERE {column} IS NOT NULL"
            )
            # Sealed before the transaction: a new resident key is written on this connection.
            resealed = [
                (await cipher.reseal_for(row[2], row[1]), row[0])
                for row in rows
                if not row[1].startswith(OWN_PREFIX)
            ]
            async with self._db.transaction() as tx:
                await tx.executemany(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", resealed)
            changed += len(resealed)
        for table, key, column in MAIN_KEY_COLUMNS:
            rows = await self._db.fetchall(
                f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"
            )
            async with self._db.transaction() as tx:
                await tx.executemany(
                    f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                    [(cipher.rotate(row[1]), row[0]) for row in rows],
                )
            changed += len(rows)
        await self._db.checkpoint()
        return changed

    async def export(self, user_id: int) -> dict[str, Any] | None:
        # Everything a resident ever wrote: on a worker thread, the loop keeps serving others.
        with self._db.off_loop():
            return await self._export(user_id)

    async def _export(self, user_id: int) -> dict[str, Any] | None:
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
        translations = await self._db.fetchall(
            "SELECT t.case_id, t.source, t.target, t.provider, t.text, t.created_at"
            " FROM message_translations t JOIN cases c ON c.id = t.case_id"
            " JOIN case_messages m ON m.id = t.message_id"
            " WHERE c.resident_id = ? AND m.direction != 'note' AND t.failure IS NULL"
            " ORDER BY t.message_id",
            (user_id,),
        )
        letters = await self._db.fetchall(
            "SELECT l.case_id, l.status, l.created_at, l.read_at, l.reading FROM letters l"
            " JOIN cases c ON c.id = l.case_id WHERE c.resident_id = ? ORDER BY l.id",
            (user_id,),
        )
        deadlines = await self._db.fetchall(
            "SELECT d.case_id, d.due_on, d.estimated, d.set_by IS NOT NULL AS set_by_staff"
            " FROM case_deadlines d JOIN cases c ON c.id = d.case_id WHERE c.resident_id = ?"
            " ORDER BY d.case_id",
            (user_id,),
        )
        # Sealed values are theirs to read: opened with their key.
        opened = self._cipher.open_for
        return {
            "resident": {k: resident[k] for k in resident.keys()},
            "cases": [
                {**dict(row), "first_name": await opened(user_id, row["first_name"])}
                for row in cases
            ],
            "messages": [
                {**dict(row), "text": await opened(user_id, row["text"])} for row in messages
            ],
            "appointments": [
                {**dict(row), "note": await opened(user_id, row["note"])} for row in appointments
            ],
            "subscriptions": [
                dict(zip(row.keys(), tuple(row), strict=True)) for row in subscriptions
            ],
            "coming_to_events": [dict(zip(row.keys(), tuple(row), strict=True)) for row in rsvps],
            # Machine translations of their messages and of the answers (bot/translation).
            "translations": [
                {
                    **dict(zip(row.keys(), tuple(row), strict=True)),
                    "text": await opened(user_id, row["text"]),
                }
                for row in translations
            ],
            # What the bot read from their letters: the fields and the recognised text.
            "letters_read": [
                {
                    "case_id": row["case_id"],
                    "status": row["status"],
                    "sent_at": row["created_at"],
                    "read_at": row["read_at"],
                    "reading": json.loads(await opened(user_id, row["reading"]) or "null"),
                }
                for row in letters
            ],
            "deadlines": [dict(zip(row.keys(), tuple(row), strict=True)) for row in deadlines],
        }

    # -- retention --------------------------------------------------------------------------
    async def closed_before(self, moment: datetime) -> list[tuple[int, int | None]]:
        """(case, forum topic) of cases closed before `moment` that still hold content. Letters
        read need no test of their own: they exist only while their pages (messages with a
        file) do, and go in the same transaction (erase_case_content)."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT c.id, c.thread_id FROM cases c WHERE c.status = 'closed'"
            " AND c.closed_at < ? AND (c.thread_id IS NOT NULL OR EXISTS (SELECT 1 FROM"
            " case_messages m WHERE m.case_id = c.id AND (m.text IS NOT NULL OR m.file_id IS NOT"
            " NULL)) OR EXISTS (SELECT 1 FROM appointments a WHERE a.case_id = c.id AND a.note"
            " IS NOT NULL))",
            (_iso(moment),),
            slow=True,
        )
        return [(row[0], row[1]) for row in rows]

    async def discard_drafts_before(self, moment: datetime) -> int:
        """Requests never sent (the resident stopped at a question or at the quick answers) and
        untouched since `moment`: gone with what was written in them; staff never saw them."""
        return await self._db.execute(
            "DELETE FROM cases WHERE status = 'draft' AND created_at < ? AND NOT EXISTS"
            " (SELECT 1 FROM case_messages m WHERE m.case_id = cases.id AND m.created_at >= ?)",
            (_iso(moment), _iso(moment)),
            slow=True,
        )

    async def inactive_since(self, moment: datetime) -> list[int]:
        rows = await self._db.fetchall(
            # Before consent a row holds no time at all (data minimisation): only residents who
            # agreed can be judged inactive.
            "SELECT user_id FROM residents WHERE consent_at IS NOT NULL"
            " AND COALESCE(last_seen_at, consent_at) < ?",
            (_iso(moment),),
            slow=True,
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
