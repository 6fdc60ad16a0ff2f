"""The one durable path out, data side: what the bot is to send, stored before it is sent.

A feature describes a message that carries state as an `Envelope`: what (`Text`, `Copy`,
`Document`, `Photo`, `Reaction`, `NewTopic`, or `Render` for content decided when it is sent),
to whom (`to_chat`, `to_topic` of a case, `to_staff` of a case, `to_group`), how urgent
(`Lane`), and what to record once Telegram has it (`on_sent`, a named `Hook`). It adds the
envelope with `Outgoing.add(tx, ...)` inside the transaction of the state change that causes it,
or with `Outgoing.put(...)`. bot/transport/courier.py sends the rows: retried with back-off
across restarts, 'uncertain' when Telegram's answer was lost, failures shown to staff. See
docs/architecture.md, "The one path out".

SQL for the `outgoing` table lives here, but for its erasure (bot/privacy/repository.py, with
every other table's).
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.core.crypto import Cipher
from bot.core.db import Database, Transaction


class Lane(enum.IntEnum):
    """Who goes first when the budget is short (Telegram: ~30 messages a second in all, 20 a
    minute per group). Lower goes first."""

    ANSWER = 10  # a resident waits for it: staff answers, confirmations, offers, notices to them
    NEW_CASE = 20  # a new case's topic and card in the staff group
    URGENT = 30  # copies of an urgent case's messages
    COPY = 40  # copies of residents' messages; notices staff act on; delivery problems
    INFO = 50  # reminders, the daily digest, the monthly report
    BROADCAST = 80  # announcements to many residents
    ACK = 90  # 👍 on a delivered staff message (never awaited by anything)


# -- where to -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: str  # chat | group | topic | staff
    chat_id: int | None = None
    case_id: int | None = None


def to_chat(chat_id: int) -> Target:
    """A private chat (a resident, a staff member) or any chat by id."""
    return Target("chat", chat_id=chat_id)


def to_group() -> Target:
    """The staff group itself (for a new topic); nothing is sent without a staff group."""
    return Target("group")


def to_topic(case_id: int) -> Target:
    """The case's forum topic in the staff group, looked up when sent: rows wait for a new
    case's topic to be opened, and follow it when the topic is opened anew."""
    return Target("topic", case_id=case_id)


def to_staff(case_id: int) -> Target:
    """Where staff see the case: its topic, or every admin's private chat without a group."""
    return Target("staff", case_id=case_id)


# -- what -----------------------------------------------------------------------------------

Buttons = tuple[tuple[tuple[str, str], ...], ...]  # rows of (label, callback_data)


def buttons(rows: Iterable[Iterable[tuple[str, str]]]) -> Buttons:
    return tuple(tuple((label, data) for label, data in row) for row in rows)


@dataclass(frozen=True)
class Text:
    text: str
    buttons: Buttons = ()
    html: bool = True
    reply_to: int | None = None  # a message in the same chat to answer (kept if it is gone)


@dataclass(frozen=True)
class Copy:
    from_chat_id: int
    message_id: int
    reply_to: int | None = None
    caption: str | None = None  # HTML, instead of the original's (a translated caption)


@dataclass(frozen=True)
class Document:
    data: bytes
    filename: str
    caption: str | None = None


@dataclass(frozen=True)
class Photo:
    file_id: str  # a photo Telegram has; or "" and the image itself in `data`
    caption: str | None = None  # HTML
    buttons: Buttons = ()
    data: bytes = b""
    filename: str = "photo.png"


@dataclass(frozen=True)
class Reaction:
    message_id: int
    emoji: str = "👍"


@dataclass(frozen=True)
class NewTopic:
    title: str


@dataclass(frozen=True)
class Render:
    """Content decided when it is sent, by the renderer registered under `name` with the
    courier (e.g. a case card that shows the case as it is then). A renderer that returns None
    cancels the row (e.g. the resident has deleted their data meanwhile)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


Content = Text | Copy | Document | Photo | Reaction | NewTopic | Render


@dataclass(frozen=True)
class Hook:
    """A function registered with the courier under `name`, run with `args` in the transaction
    that records the outcome (so "delivered" and its consequence are written together)."""

    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """Where staff are told that this did not arrive, or may not have: the chat (and topic)
    they acted in, as an answer to their message."""

    chat_id: int
    thread_id: int | None = None
    reply_to: int | None = None


@dataclass(frozen=True)
class Envelope:
    to: Target
    content: Content
    lane: Lane = Lane.ANSWER
    key: str | None = None  # stored once per key; with replace=True, sent again if done
    case_id: int | None = None  # failures are shown in this case's topic; deleted with it
    resident_id: int | None = None  # erased with the resident
    sender_id: int | None = None  # copies of this resident's messages share one limit
    batch_id: int | None = None  # a broadcast
    idempotent: bool = False  # an uncertain outcome is simply tried again
    on_sent: Hook | None = None
    on_failed: Hook | None = None  # refused, blocked, or uncertain
    report: Report | None = None  # default: the case's topic (or the admins)
    label: str | None = None  # English msgid naming it for staff, e.g. N_("this answer")
    replace: bool = False


# -- stored rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: int
    key: str | None
    target: str
    chat_id: int | None
    case_id: int | None
    resident_id: int | None
    batch_id: int | None
    sender_id: int | None
    lane: int
    content: Content
    idempotent: bool
    on_sent: Hook | None
    on_failed: Hook | None
    report: Report | None
    label: str | None
    status: str
    attempts: int
    error: str | None
    message_id: int | None
    digest_id: int | None
    thread_id: int | None  # the case's forum topic now (for topic and staff targets)


@dataclass(frozen=True)
class Progress:
    """A broadcast's rows by state."""

    total: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    uncertain: int = 0
    waiting: int = 0  # pending or being sent

    @property
    def settled(self) -> bool:
        return self.waiting == 0


def _iso(moment: datetime) -> str:
    """UTC text, so that SQLite's string comparisons order instants right."""
    return moment.astimezone(UTC).isoformat()


def encode(content: Content) -> tuple[str, bool]:
    """Content as JSON, and whether it holds text (to be sealed at rest)."""
    if isinstance(content, Text):
        data = {"type": "text", "text": content.text, "html": content.html}
        if content.buttons:
            data["buttons"] = [[list(b) for b in row] for row in content.buttons]
        if content.reply_to is not None:
            data["reply_to"] = content.reply_to
        return json.dumps(data, ensure_ascii=False), True
    if isinstance(content, Copy):
        data = {"type": "copy", "from_chat": content.from_chat_id, "message": content.message_id}
        if content.reply_to is not None:
            data["reply_to"] = content.reply_to
        if content.caption is not None:
            data["caption"] = content.caption
            return json.dumps(data, ensure_ascii=False), True
        return json.dumps(data), False
    if isinstance(content, Document):
        data = {
            "type": "document",
            "data": base64.b64encode(content.data).decode("ascii"),
            "filename": content.filename,
            "caption": content.caption,
        }
        return json.dumps(data, ensure_ascii=False), True
    if isinstance(content, Photo):
        data = {"type": "photo", "file_id": content.file_id, "caption": content.caption}
        if content.buttons:
            data["buttons"] = [[list(b) for b in row] for row in content.buttons]
        if content.data:
            data["data"] = base64.b64encode(content.data).decode("ascii")
            data["filename"] = content.filename
        return json.dumps(data, ensure_ascii=False), True
    if isinstance(content, Reaction):
        return json.dumps(
            {"type": "reaction", "message": content.message_id, "emoji": content.emoji},
            ensure_ascii=False,
        ), False
    if isinstance(content, NewTopic):
        return json.dumps({"type": "topic", "title": content.title}, ensure_ascii=False), True
    if isinstance(content, Render):
        return json.dumps(
            {"type": "render", "name": content.name, "args": dict(content.args)},
            ensure_ascii=False,
        ), False
    raise TypeError(f"not a content: {content!r}")


def decode(raw: str) -> Content:
    data = json.loads(raw)
    kind = data["type"]
    if kind == "text":
        return Text(
            data["text"],
            buttons(data.get("buttons", ())),
            data.get("html", True),
            data.get("reply_to"),
        )
    if kind == "copy":
        return Copy(data["from_chat"], data["message"], data.get("reply_to"), data.get("caption"))
    if kind == "document":
        return Document(base64.b64decode(data["data"]), data["filename"], data.get("caption"))
    if kind == "photo":
        return Photo(
            data["file_id"],
            data.get("caption"),
            buttons(data.get("buttons", ())),
            base64.b64decode(data.get("data", "")),
            data.get("filename", "photo.png"),
        )
    if kind == "reaction":
        return Reaction(data["message"], data.get("emoji", "👍"))
    if kind == "topic":
        return NewTopic(data["title"])
    if kind == "render":
        return Render(data["name"], data.get("args", {}))
    raise ValueError(f"unknown content type {kind!r}")


def _hook_json(hook: Hook | None) -> str | None:
    return json.dumps({"name": hook.name, "args": dict(hook.args)}) if hook else None


def _hook(raw: str | None) -> Hook | None:
    if not raw:
        return None
    data = json.loads(raw)
    return Hook(data["name"], data.get("args", {}))


def _report(raw: str | None) -> Report | None:
    if not raw:
        return None
    data = json.loads(raw)
    return Report(data["chat"], data.get("thread"), data.get("reply_to"))


_SELECT = (
    "SELECT o.*, c.thread_id AS thread_id FROM outgoing o LEFT JOIN cases c ON c.id = o.case_id"
)


class Outgoing:
    """The `outgoing` table: rows are added by features and worked through by the courier."""

    def __init__(self, db: Database, cipher: Cipher | None = None) -> None:
        self._db = db
        self._cipher = cipher or Cipher()

    async def _row(self, row) -> Row:
        # Text for a resident is sealed with their key (bot/core/crypto.py): gone with it.
        opened = await self._cipher.open_for(row["resident_id"], row["content"])
        return Row(
            id=row["id"],
            key=row["key"],
            target=row["target"],
            chat_id=row["chat_id"],
            case_id=row["case_id"],
            resident_id=row["resident_id"],
            batch_id=row["batch_id"],
            sender_id=row["sender_id"],
            lane=row["lane"],
            content=decode(opened or "{}"),
            idempotent=bool(row["idempotent"]),
            on_sent=_hook(row["on_sent"]),
            on_failed=_hook(row["on_failed"]),
            report=_report(row["report"]),
            label=row["label"],
            status=row["status"],
            attempts=row["attempts"],
            error=row["error"],
            message_id=row["message_id"],
            digest_id=row["digest_id"],
            thread_id=row["thread_id"],
        )

    # -- adding ---------------------------------------------------------------------------
    async def add(self, tx: Transaction, envelopes: Iterable[Envelope], now: datetime) -> int:
        """Store envelopes inside the caller's transaction; returns how many are new (or sent
        again: `replace`)."""
        added = 0
        for envelope in envelopes:
            raw, _has_text = encode(envelope.content)
            to = envelope.to
            values = (
                envelope.key,
                to.kind,
                to.chat_id,
                envelope.case_id if envelope.case_id is not None else to.case_id,
                envelope.resident_id,
                envelope.batch_id,
                envelope.sender_id,
                int(envelope.lane),
                # Sealed whatever it holds: a render's arguments (a language) can be personal too.
                await self._cipher.seal_for(envelope.resident_id, raw),
                int(envelope.idempotent),
                _hook_json(envelope.on_sent),
                _hook_json(envelope.on_failed),
                json.dumps(
                    {
                        "chat": envelope.report.chat_id,
                        "thread": envelope.report.thread_id,
                        "reply_to": envelope.report.reply_to,
                    }
                )
                if envelope.report
                else None,
                envelope.label,
                _iso(now),
            )
            conflict = (
                # Done before: on its way again (a topic opened anew needs every copy again).
                " ON CONFLICT (key) DO UPDATE SET status = 'pending', not_before = NULL,"
                " error = NULL, content = excluded.content, updated_at = excluded.created_at"
                " WHERE outgoing.status NOT IN ('pending', 'sending')"
                if envelope.replace
                else " ON CONFLICT (key) DO NOTHING"
            )
            added += await tx.execute(
                "INSERT INTO outgoing (key, target, chat_id, case_id, resident_id, batch_id,"
                " sender_id, lane, content, idempotent, on_sent, on_failed, report, label,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" + conflict,
                values,
            )
        return added

    async def put(self, envelopes: Iterable[Envelope], now: datetime) -> int:
        async with self._db.transaction() as tx:
            return await self.add(tx, envelopes, now)

    # -- what the courier reads -----------------------------------------------------------
    async def due(
        self,
        now: datetime,
        limit: int,
        *,
        skip_chats: Sequence[int] = (),
        skip_senders: Sequence[int] = (),
        skip_targets: Sequence[str] = (),
        staff_group: bool = True,
        lanes: tuple[int, int] | None = None,
    ) -> list[Row]:
        """Pending rows whose time has come, most urgent first, oldest first within a lane
        (only lanes[0] <= lane < lanes[1], if given: a range the index reads directly).
        Rows into a case's topic wait until the topic exists; chats and senders the courier
        holds back (budget spent, flood wait) are left out here already."""
        where = [
            "o.status = 'pending'",
            "(o.not_before IS NULL OR o.not_before <= ?)",
            "(o.target NOT IN ('topic', 'staff') OR c.thread_id IS NOT NULL"
            + (")" if staff_group else " OR o.target = 'staff')"),
        ]
        params: list[Any] = [_iso(now)]
        if lanes is not None:
            where.append("o.lane >= ? AND o.lane < ?")
            params += lanes
        if skip_targets:  # e.g. the staff group's budget is spent for now
            marks = ",".join("?" * len(skip_targets))
            where.append(f"o.target NOT IN ({marks})")
            params += skip_targets
        if skip_chats:
            marks = ",".join("?" * len(skip_chats))
            where.append(f"(o.chat_id IS NULL OR o.chat_id NOT IN ({marks}))")
            params += skip_chats
        if skip_senders:
            marks = ",".join("?" * len(skip_senders))
            where.append(f"(o.sender_id IS NULL OR o.sender_id NOT IN ({marks}))")
            params += skip_senders
        rows = await self._db.fetchall(
            f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY o.lane, o.id LIMIT ?",
            [*params, limit],
        )
        return [await self._row(row) for row in rows]

    async def due_from_sender(self, sender_id: int, case_id: int, now: datetime) -> list[Row]:
        """Every pending copy of one resident's messages into one case topic (for a digest)."""
        rows = await self._db.fetchall(
            f"{_SELECT} WHERE o.status = 'pending' AND o.sender_id = ? AND o.case_id = ?"
            " AND (o.not_before IS NULL OR o.not_before <= ?) ORDER BY o.id",
            (sender_id, case_id, _iso(now)),
        )
        return [await self._row(row) for row in rows]

    async def next_due(self) -> datetime | None:
        """The earliest retry time of a pending row that waits for one."""
        row = await self._db.fetchone(
            "SELECT MIN(not_before) FROM outgoing WHERE status = 'pending'"
            " AND not_before IS NOT NULL"
        )
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    async def get(self, row_id: int) -> Row | None:
        row = await self._db.fetchone(f"{_SELECT} WHERE o.id = ?", (row_id,))
        return await self._row(row) if row else None

    async def rows(
        self,
        *,
        case_id: int | None = None,
        batch_id: int | None = None,
        digest_id: int | None = None,
        status: str | None = None,
    ) -> list[Row]:
        """Rows of a case, a broadcast or a digest (optionally in one state), oldest first."""
        where, params = [], []
        for column, value in (
            ("o.case_id", case_id),
            ("o.batch_id", batch_id),
            ("o.digest_id", digest_id),
            ("o.status", status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = await self._db.fetchall(
            f"{_SELECT} WHERE {' AND '.join(where) or '1'} ORDER BY o.id", params
        )
        return [await self._row(row) for row in rows]

    # -- the courier's marks --------------------------------------------------------------
    async def mark_sending(self, ids: Sequence[int], now: datetime) -> list[int]:
        """Right before the requests leave: returns the ids that were still pending (a row
        cancelled or erased meanwhile is not sent)."""
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            f"UPDATE outgoing SET status = 'sending', attempts = attempts + 1, updated_at = ?"
            f" WHERE id IN ({marks}) AND status = 'pending' RETURNING id",
            [_iso(now), *ids],
        )
        return [row[0] for row in rows]

    async def settle(
        self,
        tx: Transaction,
        row_id: int,
        status: str,
        now: datetime,
        *,
        message_id: int | None = None,
        error: str | None = None,
        not_before: datetime | None = None,
        digest_id: int | None = None,
    ) -> None:
        await tx.execute(
            "UPDATE outgoing SET status = ?, message_id = COALESCE(?, message_id), error = ?,"
            " not_before = ?, digest_id = COALESCE(?, digest_id), updated_at = ? WHERE id = ?",
            (
                status,
                message_id,
                error,
                _iso(not_before) if not_before else None,
                digest_id,
                _iso(now),
                row_id,
            ),
        )

    async def unsettled(self, tx: Transaction) -> list[Row]:
        """Rows a previous run left 'sending' (killed between a request and its answer)."""
        rows = await tx.fetchall(f"{_SELECT} WHERE o.status = 'sending' ORDER BY o.id")
        return [await self._row(row) for row in rows]

    async def hurry(self, tx: Transaction, case_id: int, lane: Lane, to: Lane) -> None:
        """A case turned urgent: its rows waiting in `lane` move up to `to`."""
        await tx.execute(
            "UPDATE outgoing SET lane = ? WHERE case_id = ? AND lane = ? AND status = 'pending'",
            (int(to), case_id, int(lane)),
        )

    async def cancel_staff_group_rows(self, now: datetime) -> int:
        """Without a staff group, rows for it can never be sent."""
        return await self._db.execute(
            "UPDATE outgoing SET status = 'cancelled', error = 'no staff group', updated_at = ?"
            " WHERE status = 'pending' AND target IN ('group', 'topic')",
            (_iso(now),),
        )

    async def cancel_blocked_broadcasts(self, now: datetime) -> int:
        """Broadcast rows for residents who blocked the bot or deleted their data: not sent,
        counted as blocked (a reply would be a 403 anyway)."""
        return await self._db.execute(
            "UPDATE outgoing SET status = 'blocked', error = 'skipped', updated_at = ?"
            " WHERE status = 'pending' AND batch_id IS NOT NULL AND (resident_id IS NULL OR"
            " resident_id NOT IN (SELECT user_id FROM residents WHERE blocked = 0))",
            (_iso(now),),
        )

    # -- staff ask for it again -----------------------------------------------------------
    async def send_again(self, ids: Sequence[int], now: datetime) -> list[int]:
        """Uncertain rows back on their way (staff pressed "send again"), with the other rows
        of a digest they led; returns those."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetchall(
            f"UPDATE outgoing SET status = 'pending', not_before = NULL, error = NULL,"
            f" digest_id = NULL, updated_at = ? WHERE (id IN ({marks}) OR digest_id IN ({marks}))"
            " AND status = 'uncertain' RETURNING id",
            [_iso(now), *ids, *ids],
        )
        return [row[0] for row in rows]

    # -- broadcasts -----------------------------------------------------------------------
    async def add_broadcast(
        self,
        tx: Transaction,
        batch_id: int,
        renderer: str,
        recipients_sql: str,
        params: Sequence[Any],
        now: datetime,
    ) -> int:
        """One row per recipient of a broadcast, in one statement (thousands of them):
        `recipients_sql` yields (user_id, chat_id, language); each row is rendered in that
        language when sent. Returns how many."""
        if self._cipher.master is None:
            return await tx.execute(
                "INSERT OR IGNORE INTO outgoing (key, target, chat_id, resident_id, batch_id,"
                " lane, content, created_at)"
                " SELECT 'broadcast:' || ? || ':' || user_id, 'chat', chat_id, user_id, ?, ?,"
                " json_object('type', 'render', 'name', ?, 'args',"
                " json_object('broadcast', ?, 'language', language)), ?"
                f" FROM ({recipients_sql})",
                (batch_id, batch_id, int(Lane.BROADCAST), renderer, batch_id, _iso(now), *params),
            )
        # With a key every content column is sealed at rest, these too (the language is a fact
        # about the resident): sealed once per language, so thousands of rows cost a few seals.
        recipients = await tx.fetchall(recipients_sql, params)
        sealed: dict[str, str | None] = {}
        for _user, _chat, language in recipients:
            if language not in sealed:
                raw, _ = encode(Render(renderer, {"broadcast": batch_id, "language": language}))
                sealed[language] = self._cipher.seal(raw)
        before = await tx.fetchone("SELECT total_changes()")
        await tx.executemany(
            "INSERT OR IGNORE INTO outgoing (key, target, chat_id, resident_id, batch_id, lane,"
            " content, created_at) VALUES (?, 'chat', ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"broadcast:{batch_id}:{user}",
                    chat,
                    user,
                    batch_id,
                    int(Lane.BROADCAST),
                    sealed[language],
                    _iso(now),
                )
                for user, chat, language in recipients
            ],
        )
        after = await tx.fetchone("SELECT total_changes()")
        return after[0] - before[0]

    async def progress(self, batch_id: int) -> Progress:
        rows = await self._db.fetchall(
            "SELECT status, COUNT(*) AS n FROM outgoing WHERE batch_id = ? GROUP BY status",
            (batch_id,),
        )
        counts = {row["status"]: row["n"] for row in rows}
        return Progress(
            total=sum(counts.values()) - counts.get("cancelled", 0),
            sent=counts.get("sent", 0),
            blocked=counts.get("blocked", 0),
            failed=counts.get("failed", 0),
            uncertain=counts.get("uncertain", 0),
            waiting=counts.get("pending", 0) + counts.get("sending", 0),
        )

    async def waiting(self, batch_id: int) -> bool:
        """Whether any of a broadcast's rows is still pending or being sent."""
        row = await self._db.fetchone(
            "SELECT 1 FROM outgoing WHERE batch_id = ? AND status IN ('pending', 'sending')"
            " LIMIT 1",
            (batch_id,),
        )
        return row is not None

    async def uncertain_in_batch(self, batch_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM outgoing WHERE batch_id = ? AND status = 'uncertain' ORDER BY id",
            (batch_id,),
        )
        return [row[0] for row in rows]

    # -- housekeeping ---------------------------------------------------------------------
    async def prune(self, before: datetime) -> int:
        """Forget settled rows (not those of a broadcast: its rows are its record)."""
        return await self._db.execute(
            "DELETE FROM outgoing WHERE batch_id IS NULL AND updated_at < ? AND status IN"
            " ('sent', 'cancelled', 'failed', 'blocked')",
            (_iso(before),),
        )
