"""Data access for events, their texts, subscriptions, "I'm coming", staff drafts and
broadcasts. A broadcast's messages are rows of the one durable path (bot/core/outgoing.py), one
per recipient, written with the broadcast in one transaction; they are also its record (who it
reached, for a change or a cancellation, and the counts for the funder)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.core.db import Database
from bot.core.outgoing import Outgoing, Progress

DISTRICT_SEPARATOR = "|"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


@dataclass(frozen=True)
class EventText:
    title: str
    body: str


@dataclass(frozen=True)
class Event:
    id: int
    starts_at: datetime
    place: str
    districts: tuple[str, ...]
    photo_file_id: str | None
    status: str
    publish_at: datetime | None
    remind: bool
    reminded: bool
    created_by: int
    texts: dict[str, EventText]


@dataclass(frozen=True)
class Broadcast:
    id: int
    kind: str
    event_id: int | None
    started_by: int | None
    progress_chat_id: int | None
    progress_message_id: int | None
    status: str


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: subscribers of districts, everyone an event reached, or those
    who said they are coming. Only consented residents who have not blocked the bot."""

    kind: str  # "districts" | "reached" | "coming"
    districts: tuple[str, ...] = ()
    event_id: int | None = None

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        active = "r.consent_at IS NOT NULL AND r.blocked = 0"
        if self.kind == "districts":
            marks = ",".join("?" * len(self.districts))
            return (
                "SELECT DISTINCT r.user_id, r.chat_id, r.language FROM residents r"
                f" JOIN subscriptions s ON s.resident_id = r.user_id WHERE {active}"
                f" AND s.district IN ({marks})",
                self.districts,
            )
        if self.kind == "reached":
            # Uncertain ones too: better told of a change to an event they may not have seen
            # than left to come to one that was cancelled.
            return (
                "SELECT DISTINCT r.user_id, r.chat_id, r.language FROM outgoing o"
                " JOIN broadcasts b ON b.id = o.batch_id JOIN residents r"
                f" ON r.user_id = o.resident_id WHERE {active} AND b.event_id = ?"
                " AND b.kind = 'event' AND o.status IN ('sent', 'uncertain')",
                (self.event_id,),
            )
        if self.kind == "coming":
            return (
                "SELECT r.user_id, r.chat_id, r.language FROM rsvps v JOIN residents r"
                f" ON r.user_id = v.resident_id WHERE {active} AND v.event_id = ?",
                (self.event_id,),
            )
        raise ValueError(self.kind)


BROADCAST_RENDERER = "broadcast"  # bot/events/broadcasts.py renders each recipient's message


class EventRepository:
    def __init__(self, db: Database, outgoing: Outgoing | None = None) -> None:
        self._db = db
        self._outgoing = outgoing or Outgoing(db)

    # -- events ------------------------------------------------------------------------------
    async def create(
        self,
        *,
        starts_at: datetime,
        place: str,
        districts: tuple[str, ...],
        photo_file_id: str | None,
        texts: dict[str, EventText],
        staff_id: int,
        now: datetime,
    ) -> int:
        async with self._db.transaction() as tx:
            event_id = await tx.insert(
                "INSERT INTO events (starts_at, place, districts, photo_file_id, status,"
                " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 'draft', ?, ?, ?)",
                (
                    _iso(starts_at),
                    place,
                    DISTRICT_SEPARATOR.join(districts),
                    photo_file_id,
                    staff_id,
                    _iso(now),
                    _iso(now),
                ),
            )
            await tx.executemany(
                "INSERT INTO event_texts (event_id, language, title, body) VALUES (?, ?, ?, ?)",
                [(event_id, lang, t.title, t.body) for lang, t in texts.items()],
            )
        return event_id

    async def get(self, event_id: int) -> Event | None:
        row = await self._db.fetchone("SELECT * FROM events WHERE id = ?", (event_id,))
        if row is None:
            return None
        rows = await self._db.fetchall(
            "SELECT language, title, body FROM event_texts WHERE event_id = ?", (event_id,)
        )
        return Event(
            id=row["id"],
            starts_at=datetime.fromisoformat(row["starts_at"]),
            place=row["place"],
            districts=tuple(row["districts"].split(DISTRICT_SEPARATOR)),
            photo_file_id=row["photo_file_id"],
            status=row["status"],
            publish_at=datetime.fromisoformat(row["publish_at"]) if row["publish_at"] else None,
            remind=bool(row["remind"]),
            reminded=bool(row["reminded"]),
            created_by=row["created_by"],
            texts={r["language"]: EventText(r["title"], r["body"]) for r in rows},
        )

    async def upcoming(
        self, now: datetime, statuses: tuple[str, ...] = ("published",), limit: int = 20
    ) -> list[Event]:
        marks = ",".join("?" * len(statuses))
        rows = await self._db.fetchall(
            f"SELECT id FROM events WHERE status IN ({marks}) AND starts_at > ?"
            " ORDER BY starts_at LIMIT ?",
            (*statuses, _iso(now), limit),
        )
        return [event for row in rows if (event := await self.get(row["id"])) is not None]

    async def set_status(
        self,
        event_id: int,
        status: str,
        now: datetime,
        publish_at: datetime | None = None,
        from_statuses: tuple[str, ...] | None = None,
    ) -> bool:
        sql = "UPDATE events SET status = ?, publish_at = ?, updated_at = ? WHERE id = ?"
        params: list[Any] = [status, _iso(publish_at) if publish_at else None, _iso(now), event_id]
        if from_statuses:
            sql += f" AND status IN ({','.join('?' * len(from_statuses))})"
            params.extend(from_statuses)
        return await self._db.execute(sql, params) > 0

    async def update(
        self,
        event_id: int,
        now: datetime,
        *,
        starts_at: datetime | None = None,
        place: str | None = None,
    ) -> None:
        if starts_at is not None:
            await self._db.execute(
                "UPDATE events SET starts_at = ?, reminded = 0, updated_at = ? WHERE id = ?",
                (_iso(starts_at), _iso(now), event_id),
            )
        if place is not None:
            await self._db.execute(
                "UPDATE events SET place = ?, updated_at = ? WHERE id = ?",
                (place, _iso(now), event_id),
            )

    async def set_text(self, event_id: int, language: str, text: EventText) -> None:
        await self._db.execute(
            "INSERT INTO event_texts (event_id, language, title, body) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (event_id, language) DO UPDATE SET title = excluded.title,"
            " body = excluded.body",
            (event_id, language, text.title, text.body),
        )

    async def due_for_publishing(self, now: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM events WHERE status = 'scheduled' AND publish_at <= ?", (_iso(now),)
        )
        return [row["id"] for row in rows]

    async def due_for_reminder(self, start_before: datetime, now: datetime) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM events WHERE status = 'published' AND remind = 1 AND reminded = 0"
            " AND starts_at > ? AND starts_at <= ?",
            (_iso(now), _iso(start_before)),
        )
        return [row["id"] for row in rows]

    # -- subscriptions and "I'm coming" -----------------------------------------------------
    async def subscriptions(self, resident_id: int) -> set[str]:
        rows = await self._db.fetchall(
            "SELECT district FROM subscriptions WHERE resident_id = ?", (resident_id,)
        )
        return {row["district"] for row in rows}

    async def set_subscriptions(self, resident_id: int, districts: set[str], now: datetime) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM subscriptions WHERE resident_id = ?", (resident_id,))
            await tx.executemany(
                "INSERT INTO subscriptions (resident_id, district, created_at) VALUES (?, ?, ?)",
                [(resident_id, district, _iso(now)) for district in sorted(districts)],
            )
            await tx.execute(
                "UPDATE residents SET announcements_asked = 1 WHERE user_id = ?", (resident_id,)
            )

    async def was_asked(self, resident_id: int) -> bool:
        row = await self._db.fetchone(
            "SELECT announcements_asked FROM residents WHERE user_id = ?", (resident_id,)
        )
        return bool(row and row[0])

    async def rsvp(self, event_id: int, resident_id: int, now: datetime) -> bool:
        return (
            await self._db.execute(
                "INSERT OR IGNORE INTO rsvps (event_id, resident_id, created_at) VALUES (?, ?, ?)",
                (event_id, resident_id, _iso(now)),
            )
            > 0
        )

    async def rsvp_count(self, event_id: int) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM rsvps WHERE event_id = ?", (event_id,))
        return row[0]

    # -- staff drafts -----------------------------------------------------------------------
    async def draft(self, staff_id: int) -> tuple[str, str, dict[str, Any]] | None:
        row = await self._db.fetchone(
            "SELECT kind, step, data FROM staff_drafts WHERE staff_id = ?", (staff_id,)
        )
        return (row["kind"], row["step"], json.loads(row["data"])) if row else None

    async def save_draft(
        self, staff_id: int, kind: str, step: str, data: dict[str, Any], now: datetime
    ) -> None:
        await self._db.execute(
            "INSERT INTO staff_drafts (staff_id, kind, step, data, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (staff_id) DO UPDATE SET kind = excluded.kind,"
            " step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (staff_id, kind, step, json.dumps(data, ensure_ascii=False), _iso(now)),
        )

    async def drop_draft(self, staff_id: int) -> None:
        await self._db.execute("DELETE FROM staff_drafts WHERE staff_id = ?", (staff_id,))

    # -- broadcasts -------------------------------------------------------------------------
    async def create_broadcast(
        self,
        *,
        kind: str,
        event_id: int | None,
        started_by: int | None,
        texts: dict[str, str],
        audience: Audience,
        now: datetime,
        reminder: bool = False,
    ) -> tuple[int, int] | None:
        """A broadcast and one queued message per recipient, in one transaction; returns
        (id, recipients). With `reminder`, the event's reminder is claimed in the same
        transaction (None if it was claimed before): a kill in between loses no reminder."""
        recipients_sql, params = audience.sql()
        async with self._db.transaction() as tx:
            if reminder and not await tx.execute(
                "UPDATE events SET reminded = 1 WHERE id = ? AND reminded = 0", (event_id,)
            ):
                return None
            broadcast_id = await tx.insert(
                "INSERT INTO broadcasts (kind, event_id, started_by, created_at)"
                " VALUES (?, ?, ?, ?)",
                (kind, event_id, started_by, _iso(now)),
            )
            await tx.executemany(
                "INSERT INTO broadcast_texts (broadcast_id, language, text) VALUES (?, ?, ?)",
                [(broadcast_id, lang, text) for lang, text in texts.items()],
            )
            count = await self._outgoing.add_broadcast(
                tx, broadcast_id, BROADCAST_RENDERER, recipients_sql, params, now
            )
        return broadcast_id, count

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
            (chat_id, message_id, broadcast_id),
        )

    async def broadcast(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        if row is None:
            return None
        return Broadcast(
            row["id"],
            row["kind"],
            row["event_id"],
            row["started_by"],
            row["progress_chat_id"],
            row["progress_message_id"],
            row["status"],
        )

    async def broadcast_texts(self, broadcast_id: int) -> dict[str, str]:
        rows = await self._db.fetchall(
            "SELECT language, text FROM broadcast_texts WHERE broadcast_id = ?", (broadcast_id,)
        )
        return {row["language"]: row["text"] for row in rows}

    async def progress(self, broadcast_id: int) -> Progress:
        return await self._outgoing.progress(broadcast_id)

    async def finish(self, broadcast_id: int, now: datetime) -> bool:
        """Done once none of its messages is waiting any more (uncertain ones are settled:
        staff decide about those)."""
        return (
            await self._db.execute(
                "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ?"
                " AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM outgoing WHERE"
                " batch_id = ? AND status IN ('pending', 'sending'))",
                (_iso(now), broadcast_id, broadcast_id),
            )
            > 0
        )

    async def reopen(self, broadcast_id: int) -> None:
        """Staff sent the uncertain ones again: it is under way once more."""
        await self._db.execute(
            "UPDATE broadcasts SET status = 'sending', finished_at = NULL WHERE id = ?",
            (broadcast_id,),
        )

    async def sending_broadcasts(self) -> list[int]:
        rows = await self._db.fetchall("SELECT id FROM broadcasts WHERE status = 'sending'")
        return [row["id"] for row in rows]

    async def counts(self) -> dict[str, int]:
        row = await self._db.fetchone(
            "SELECT (SELECT COUNT(*) FROM events WHERE status = 'published'),"
            " (SELECT COUNT(*) FROM rsvps),"
            " (SELECT COUNT(DISTINCT resident_id) FROM subscriptions),"
            " (SELECT COUNT(*) FROM outgoing WHERE batch_id IS NOT NULL AND status = 'sent')"
        )
        return {"events": row[0], "rsvps": row[1], "subscribers": row[2], "delivered": row[3]}
