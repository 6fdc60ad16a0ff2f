"""Data access for appointments, their seats, reminders, closed days, drafts and staff notices.

What a change makes the bot send (the resident's confirmation, a reminder, a notice for staff)
is queued in the same transaction as the change (bot/core/outgoing.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from bot.core.crypto import Cipher
from bot.core.db import Database, Transaction
from bot.core.i18n import N_
from bot.core.outgoing import Envelope, Hook, Lane, Outgoing, Render, to_staff

HOLDING = ("requested", "proposed", "confirmed")  # statuses that keep a seat


class SlotFull(Exception):
    """No seat left in that slot."""


@dataclass(frozen=True)
class Appointment:
    id: int
    case_id: int
    location: str
    starts_at: datetime
    ends_at: datetime
    status: str
    note: str | None
    sequence: int
    created_at: datetime
    resident_id: int | None = None
    resident_chat_id: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class Draft:
    resident_id: int
    topic: str | None
    location: str | None
    day: date | None
    starts_at: datetime | None
    note: str | None
    awaiting_note: bool
    replaces: int | None


@dataclass(frozen=True)
class StaffNotice:
    id: int
    case_id: int
    text: str
    buttons: list[list[dict[str, str]]] | None
    attempts: int


SELECT = (
    "SELECT a.*, c.resident_id, r.chat_id AS resident_chat_id, c.language FROM appointments a"
    " JOIN cases c ON c.id = a.case_id LEFT JOIN residents r ON r.user_id = c.resident_id"
)


def _iso(moment: datetime) -> str:
    """Stored instants are UTC text, so that SQLite's string comparisons order them right."""
    return moment.astimezone(UTC).isoformat()


def _appointment(row) -> Appointment:
    return Appointment(
        id=row["id"],
        case_id=row["case_id"],
        location=row["location"],
        starts_at=datetime.fromisoformat(row["starts_at"]),
        ends_at=datetime.fromisoformat(row["ends_at"]),
        status=row["status"],
        note=row["note"],
        sequence=row["sequence"],
        created_at=datetime.fromisoformat(row["created_at"]),
        resident_id=row["resident_id"],
        resident_chat_id=row["resident_chat_id"],
        language=row["language"],
    )


# How the relay renders a notice and records it delivered (bot/transport/relay.py).
NOTICE_RENDERER = "staff.notice"
NOTICE_SENT = "staff.notice_sent"


class AppointmentRepository:
    def __init__(
        self, db: Database, cipher: Cipher | None = None, outgoing: Outgoing | None = None
    ) -> None:
        self._db = db
        self._cipher = cipher or Cipher()
        self._outgoing = outgoing or Outgoing(db, self._cipher)

    async def _appointment(self, row) -> Appointment:
        """The note is the resident's words: sealed with their key."""
        appointment = _appointment(row)
        return replace(
            appointment,
            note=await self._cipher.open_for(appointment.resident_id, appointment.note),
        )

    async def _owner(self, case_id: int) -> int | None:
        row = await self._db.fetchone("SELECT resident_id FROM cases WHERE id = ?", (case_id,))
        return row[0] if row else None

    # -- appointments -----------------------------------------------------------------------
    async def get(self, appointment_id: int) -> Appointment | None:
        row = await self._db.fetchone(f"{SELECT} WHERE a.id = ?", (appointment_id,))
        return await self._appointment(row) if row else None

    async def upcoming_for_resident(self, resident_id: int, now: datetime) -> list[Appointment]:
        rows = await self._db.fetchall(
            f"{SELECT} WHERE c.resident_id = ? AND a.status IN ('requested', 'proposed',"
            " 'confirmed') AND a.ends_at > ? ORDER BY a.starts_at",
            (resident_id, _iso(now)),
        )
        return [await self._appointment(row) for row in rows]

    async def for_case(self, case_id: int) -> list[Appointment]:
        rows = await self._db.fetchall(f"{SELECT} WHERE a.case_id = ? ORDER BY a.id", (case_id,))
        return [await self._appointment(row) for row in rows]

    async def confirmed_between(self, start: datetime, end: datetime) -> list[Appointment]:
        rows = await self._db.fetchall(
            f"{SELECT} WHERE a.status = 'confirmed' AND a.starts_at >= ? AND a.starts_at < ?"
            " ORDER BY a.starts_at, a.location",
            (_iso(start), _iso(end)),
        )
        return [await self._appointment(row) for row in rows]

    async def taken(self, location: str, start: datetime, end: datetime) -> dict[datetime, int]:
        """Seats held per slot start in [start, end)."""
        rows = await self._db.fetchall(
            "SELECT starts_at, COUNT(*) AS n FROM slot_seats WHERE location = ?"
            " AND starts_at >= ? AND starts_at < ? GROUP BY starts_at",
            (location, _iso(start), _iso(end)),
        )
        return {datetime.fromisoformat(row["starts_at"]): row["n"] for row in rows}

    async def request(
        self,
        case_id: int,
        location: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        note: str | None,
        now: datetime,
        status: str = "requested",
    ) -> int:
        """A new appointment holding a seat; SlotFull if the slot has none left."""
        sealed = await self._cipher.seal_for(await self._owner(case_id), note)
        try:
            async with self._db.transaction() as tx:
                appointment_id = await tx.insert(
                    "INSERT INTO appointments (case_id, location, starts_at, ends_at, status,"
                    " note, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        case_id,
                        location,
                        _iso(starts_at),
                        _iso(ends_at),
                        status,
                        sealed,
                        _iso(now),
                        _iso(now),
                    ),
                )
                await self._hold_seat(tx, appointment_id, location, starts_at, capacity)
        except sqlite3.IntegrityError as error:
            raise SlotFull from error
        return appointment_id

    async def move(
        self,
        appointment_id: int,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        status: str,
        now: datetime,
        outgoing: Iterable[Envelope] = (),
    ) -> None:
        """Another time for the same appointment: the old seat is freed, a new one held; the
        resident's notice (`outgoing`) is queued with it."""
        try:
            async with self._db.transaction() as tx:
                row = await tx.fetchone(
                    "SELECT location FROM appointments WHERE id = ?", (appointment_id,)
                )
                await tx.execute(
                    "DELETE FROM slot_seats WHERE appointment_id = ?", (appointment_id,)
                )
                await self._hold_seat(tx, appointment_id, row["location"], starts_at, capacity)
                await tx.execute(
                    "UPDATE appointments SET starts_at = ?, ends_at = ?, status = ?,"
                    " sequence = sequence + 1, updated_at = ? WHERE id = ?",
                    (
                        _iso(starts_at),
                        _iso(ends_at),
                        status,
                        _iso(now),
                        appointment_id,
                    ),
                )
                # Reminders belong to the time: a moved appointment is reminded afresh.
                await tx.execute(
                    "DELETE FROM appointment_reminders WHERE appointment_id = ?",
                    (appointment_id,),
                )
                await self._outgoing.add(tx, outgoing, now)
        except sqlite3.IntegrityError as error:
            raise SlotFull from error

    async def _hold_seat(
        self, tx, appointment_id: int, location: str, starts_at: datetime, capacity: int
    ) -> None:
        rows = await tx.fetchall(
            "SELECT seat FROM slot_seats WHERE location = ? AND starts_at = ?",
            (location, _iso(starts_at)),
        )
        used = {row["seat"] for row in rows}
        seat = next((s for s in range(1, capacity + 1) if s not in used), None)
        if seat is None:
            raise sqlite3.IntegrityError("slot full")
        await tx.execute(
            "INSERT INTO slot_seats (appointment_id, location, starts_at, seat, capacity)"
            " VALUES (?, ?, ?, ?, ?)",
            (appointment_id, location, _iso(starts_at), seat, capacity),
        )

    async def set_status(
        self,
        appointment_id: int,
        status: str,
        now: datetime,
        from_statuses: tuple[str, ...],
        outgoing: Iterable[Envelope] = (),
    ) -> bool:
        """`outgoing`: what the change makes the bot send, queued only if it happens."""
        async with self._db.transaction() as tx:
            marks = ",".join("?" * len(from_statuses))
            changed = await tx.execute(
                f"UPDATE appointments SET status = ?, updated_at = ? WHERE id = ?"
                f" AND status IN ({marks})",
                (status, _iso(now), appointment_id, *from_statuses),
            )
            if changed and status not in (*HOLDING, "done", "no_show"):
                await tx.execute(
                    "DELETE FROM slot_seats WHERE appointment_id = ?", (appointment_id,)
                )
            if changed:
                await self._outgoing.add(tx, outgoing, now)
        return changed > 0

    async def counts_by_status(self) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT status, COUNT(*) AS n FROM appointments GROUP BY status"
        )
        return {row["status"]: row["n"] for row in rows}

    # -- reminders and digests --------------------------------------------------------------
    async def claim_reminder(
        self,
        appointment_id: int,
        kind: str,
        state: str,
        now: datetime,
        outgoing: Iterable[Envelope] = (),
    ) -> bool:
        """Record a reminder and queue it in one transaction; False if it was recorded before
        (never twice). The courier delivers it, retrying through a bad day at Telegram."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "INSERT OR IGNORE INTO appointment_reminders (appointment_id, kind, state, at)"
                " VALUES (?, ?, ?, ?)",
                (appointment_id, kind, state, _iso(now)),
            )
            if claimed:
                await self._outgoing.add(tx, outgoing, now)
        return claimed > 0

    async def reminders_of(self, appointment_id: int) -> dict[str, str]:
        rows = await self._db.fetchall(
            "SELECT kind, state FROM appointment_reminders WHERE appointment_id = ?",
            (appointment_id,),
        )
        return {row["kind"]: row["state"] for row in rows}

    async def claim_digest(
        self, day: date, now: datetime, outgoing: Iterable[Envelope] = ()
    ) -> bool:
        """The day's digest for staff, recorded and queued once."""
        async with self._db.transaction() as tx:
            claimed = await tx.execute(
                "INSERT OR IGNORE INTO staff_digests (day, sent_at) VALUES (?, ?)",
                (day.isoformat(), _iso(now)),
            )
            if claimed:
                await self._outgoing.add(tx, outgoing, now)
        return claimed > 0

    # -- closed days ------------------------------------------------------------------------
    async def closed_days(self, location: str) -> set[date]:
        rows = await self._db.fetchall(
            "SELECT day FROM closed_days WHERE location IN (?, '*')", (location,)
        )
        return {date.fromisoformat(row["day"]) for row in rows}

    async def add_closed_day(self, location: str, day: date, staff_id: int) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO closed_days (location, day, added_by) VALUES (?, ?, ?)",
            (location, day.isoformat(), staff_id),
        )

    async def holding_on(
        self, location: str, day_start: datetime, day_end: datetime
    ) -> list[Appointment]:
        rows = await self._db.fetchall(
            f"{SELECT} WHERE a.status IN ('requested', 'proposed', 'confirmed')"
            " AND (a.location = ? OR ? = '*') AND a.starts_at >= ? AND a.starts_at < ?",
            (location, location, _iso(day_start), _iso(day_end)),
        )
        return [await self._appointment(row) for row in rows]

    # -- drafts -----------------------------------------------------------------------------
    async def draft(self, resident_id: int) -> Draft | None:
        row = await self._db.fetchone(
            "SELECT * FROM appointment_drafts WHERE resident_id = ?", (resident_id,)
        )
        if row is None:
            return None
        return Draft(
            resident_id=row["resident_id"],
            topic=row["topic"],
            location=row["location"],
            day=date.fromisoformat(row["day"]) if row["day"] else None,
            starts_at=datetime.fromisoformat(row["starts_at"]) if row["starts_at"] else None,
            note=await self._cipher.open_for(resident_id, row["note"]),
            awaiting_note=bool(row["awaiting_note"]),
            replaces=row["replaces"],
        )

    async def save_draft(self, draft: Draft, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO appointment_drafts (resident_id, topic, location, day, starts_at, note,"
            " awaiting_note, replaces, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (resident_id) DO UPDATE SET topic = excluded.topic,"
            " location = excluded.location, day = excluded.day, starts_at = excluded.starts_at,"
            " note = excluded.note, awaiting_note = excluded.awaiting_note,"
            " replaces = excluded.replaces, updated_at = excluded.updated_at",
            (
                draft.resident_id,
                draft.topic,
                draft.location,
                draft.day.isoformat() if draft.day else None,
                _iso(draft.starts_at) if draft.starts_at else None,
                await self._cipher.seal_for(draft.resident_id, draft.note),
                int(draft.awaiting_note),
                draft.replaces,
                _iso(now),
            ),
        )

    async def delete_draft(self, resident_id: int) -> None:
        await self._db.execute(
            "DELETE FROM appointment_drafts WHERE resident_id = ?", (resident_id,)
        )

    # -- staff notices ----------------------------------------------------------------------
    async def add_notice(
        self, case_id: int, text: str, buttons: list[list[dict[str, str]]] | None, now: datetime
    ) -> int:
        """A notice for staff about the case, stored and queued for the case's topic (or the
        admins without a staff group) in one transaction. It quotes the appointment and its
        note: sealed with the resident's key."""
        sealed = await self._cipher.seal_for(await self._owner(case_id), text)
        async with self._db.transaction() as tx:
            notice_id = await tx.insert(
                "INSERT INTO staff_notices (case_id, text, buttons, created_at)"
                " VALUES (?, ?, ?, ?)",
                (case_id, sealed, json.dumps(buttons) if buttons else None, _iso(now)),
            )
            await self._outgoing.add(
                tx,
                [
                    Envelope(
                        to_staff(case_id),
                        Render(NOTICE_RENDERER, {"notice": notice_id}),
                        Lane.COPY,
                        key=f"notice:{notice_id}",
                        on_sent=Hook(NOTICE_SENT, {"notice": notice_id}),
                        label=N_("a notice for staff"),
                    )
                ],
                now,
            )
        return notice_id

    async def notice(self, notice_id: int) -> StaffNotice | None:
        row = await self._db.fetchone(
            "SELECT n.*, c.resident_id AS owner FROM staff_notices n JOIN cases c"
            " ON c.id = n.case_id WHERE n.id = ?",
            (notice_id,),
        )
        if row is None:
            return None
        return StaffNotice(
            row["id"],
            row["case_id"],
            await self._cipher.open_for(row["owner"], row["text"]),
            json.loads(row["buttons"]) if row["buttons"] else None,
            row["attempts"],
        )

    async def notice_sent(self, tx: Transaction, notice_id: int) -> None:
        await tx.execute(
            "UPDATE staff_notices SET status = 'sent', attempts = attempts + 1 WHERE id = ?",
            (notice_id,),
        )
