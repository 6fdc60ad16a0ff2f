"""The funder report and /queue read less since issue 18 (migrations/0017: the first answer to a
case is one step into an index instead of a join of every message; /queue sorts the open cases'
keys before reading whole rows). On a varied database their results must be exactly those of
the plain statements they replaced, kept here as the reference."""

from __future__ import annotations

import random
import statistics
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cases.repository import CaseRepository
from bot.core.db import Database
from bot.reporting.report import ReportRepository

TZ = ZoneInfo("Europe/Berlin")
# Across the end of summer time (25 October 2026): local midnights are 22:00 and 23:00 UTC.
START, END = date(2026, 10, 1), date(2026, 12, 31)
LO = datetime.combine(START, time(), tzinfo=TZ).astimezone(UTC)
HI = datetime.combine(END + timedelta(days=1), time(), tzinfo=TZ).astimezone(UTC)
TOPICS = ("debt", "housing", "letter", "job", "family", "other", None)
DISTRICTS = ("Berliner Platz", "Rieth", None)
LANGUAGES = ("de", "ar", "ru", "uk", "en")
STATUSES = ("draft", "new", "open", "waiting", "closed")


def moment(rng: random.Random) -> datetime:
    """Anywhere from three weeks before the period to three weeks after it, now and then on
    a boundary of it or a second beside one, sometimes with microseconds."""
    edge = rng.random()
    if edge < 0.1:
        return rng.choice((LO, HI, LO - timedelta(seconds=1), HI - timedelta(seconds=1)))
    span = (HI - LO) + timedelta(days=42)
    at = LO - timedelta(days=21) + span * rng.random()
    return at if rng.random() < 0.5 else at.replace(microsecond=0)


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    rng = random.Random(18)
    database = await Database.open(tmp_path / "varied.sqlite3")
    await database.migrate()
    residents = [(user, user, rng.choice(LANGUAGES)) for user in range(1, 61)]
    cases, messages, deadlines, deliveries = [], [], [], []
    for case_id in range(1, 601):
        status = rng.choice(STATUSES)
        submitted = None if status == "draft" else moment(rng)
        closed = moment(rng) if status == "closed" or rng.random() < 0.05 else None
        cases.append(
            (
                case_id,
                rng.choice((None, *range(1, 61))),  # None: the resident deleted their data
                status,
                rng.choice(TOPICS),
                rng.choice(DISTRICTS),
                rng.choice(LANGUAGES),
                int(rng.random() < 0.15),
                (submitted or LO).isoformat(),
                submitted and submitted.isoformat(),
                closed and closed.isoformat(),
            )
        )
        # Messages stored out of time order: the first answer is the earliest, not the first row.
        for _ in range(rng.choice((0, 0, 1, 2, 3, 5, 8))):
            at = (submitted or LO) + timedelta(hours=rng.uniform(-2, 400))
            direction = rng.choice(("in", "in", "out", "note"))
            messages.append((case_id, direction, at.isoformat(), len(messages) + 1))
        if rng.random() < 0.3:
            due = None if rng.random() < 0.2 else date(2026, 12, 1) + timedelta(rng.randrange(30))
            deadlines.append((case_id, due and due.isoformat(), LO.isoformat()))
    for n in range(400):
        batch = rng.choice((None, 1, 2))
        status = rng.choice(("sent", "sent", "failed", "blocked", "pending"))
        deliveries.append((n, batch, status, moment(rng).isoformat()))
    async with database.transaction() as tx:
        await tx.executemany(
            "INSERT INTO residents (user_id, chat_id, language) VALUES (?, ?, ?)", residents
        )
        await tx.executemany(
            "INSERT INTO cases (id, resident_id, status, topic, district, language, urgent,"
            " created_at, submitted_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            cases,
        )
        await tx.executemany(
            "INSERT INTO case_messages (case_id, direction, sender_id, kind, text,"
            " source_chat_id, source_message_id, relay_status, created_at)"
            " VALUES (?1, ?2, 1, 'text', 'x', 1, ?4, 'sent', ?3)",
            messages,
        )
        await tx.executemany(
            "INSERT INTO case_deadlines (case_id, due_on, set_at) VALUES (?, ?, ?)", deadlines
        )
        await tx.executemany(
            "INSERT INTO broadcasts (id, kind, status, created_at) VALUES (?, 'notice', 'done', ?)",
            [(1, LO.isoformat()), (2, LO.isoformat())],
        )
        await tx.executemany(
            "INSERT INTO outgoing (key, target, chat_id, batch_id, lane, content, status,"
            " created_at, updated_at) VALUES ('b' || ?1, 'chat', ?1, ?2, 80, '{}', ?3, ?4, ?4)",
            deliveries,
        )
    try:
        yield database
    finally:
        await database.close()


async def reference(db: Database) -> dict:
    """The report's case figures as the statements before issue 18 computed them."""
    params = (LO.isoformat(), HI.isoformat())

    async def one(sql: str) -> int:
        return int((await db.fetchone(sql, params))[0] or 0)

    figures = {
        "cases_opened": await one(
            "SELECT COUNT(*) FROM cases WHERE submitted_at >= ? AND submitted_at < ?"
        ),
        "cases_closed": await one(
            "SELECT COUNT(*) FROM cases WHERE closed_at >= ? AND closed_at < ?"
            " AND submitted_at IS NOT NULL"
        ),
        "cases_urgent": await one(
            "SELECT COUNT(*) FROM cases WHERE urgent = 1 AND submitted_at >= ? AND submitted_at < ?"
        ),
        "residents_reached": await one(
            "SELECT COUNT(DISTINCT resident_id) + SUM(resident_id IS NULL) FROM cases"
            " WHERE submitted_at >= ? AND submitted_at < ?"
        ),
        "announcements_delivered": await one(
            "SELECT COUNT(*) FROM outgoing WHERE batch_id IS NOT NULL AND status = 'sent'"
            " AND updated_at >= ? AND updated_at < ?"
        ),
    }
    breakdowns = {}
    for column in ("topic", "language", "district"):
        rows = await db.fetchall(
            f"SELECT COALESCE({column}, '–'), COUNT(*) FROM cases WHERE submitted_at >= ?"
            f" AND submitted_at < ? GROUP BY 1",
            params,
        )
        breakdowns[f"cases_by_{column}"] = {row[0]: row[1] for row in rows}
    rows = await db.fetchall(
        "SELECT c.submitted_at, MIN(m.created_at) FROM cases c JOIN case_messages m"
        " ON m.case_id = c.id AND m.direction = 'out' WHERE c.submitted_at >= ?"
        " AND c.submitted_at < ? GROUP BY c.id",
        params,
    )
    waits = [
        (datetime.fromisoformat(r[1]) - datetime.fromisoformat(r[0])).total_seconds() / 3600
        for r in rows
    ]
    return {"figures": figures, "breakdowns": breakdowns, "median": statistics.median(waits)}


async def test_the_report_has_the_figures_of_the_plain_statements(db):
    expected = await reference(db)
    report = await ReportRepository(db).report(START, END, TZ)
    figures = {key: report.figures[key] for key in expected["figures"]}
    assert figures == expected["figures"]
    breakdowns = {key: report.breakdowns[key] for key in expected["breakdowns"]}
    assert breakdowns == expected["breakdowns"]
    assert report.median_first_answer_hours == expected["median"]
    # The data are varied enough for the comparison to mean something.
    assert expected["figures"]["cases_opened"] > 200
    assert 0 < expected["figures"]["cases_urgent"] < expected["figures"]["cases_opened"]
    assert expected["figures"]["announcements_delivered"] > 50
    assert all("–" in expected["breakdowns"][f"cases_by_{c}"] for c in ("topic", "district"))


@pytest.mark.parametrize("limit", [1, 7, 30, 1000])
async def test_the_queue_is_the_open_cases_in_order_with_their_requests_counted(db, limit):
    rows = await db.fetchall(
        "SELECT c.id, c.urgent, c.submitted_at, d.due_on,"
        " (SELECT COUNT(*) FROM case_messages m WHERE m.case_id = c.id AND m.direction = 'in')"
        " FROM cases c LEFT JOIN case_deadlines d ON d.case_id = c.id"
        " WHERE c.status IN ('new', 'open', 'waiting')"
    )
    ordered = sorted(rows, key=lambda r: (-r[1], r[3] is None, r[3] or "", r[2], r[0]))
    expected = [(r[0], r[4]) for r in ordered[:limit]]
    queue = await CaseRepository(db).queue(limit)
    assert [(entry.case.id, entry.messages) for entry in queue] == expected
    assert len(expected) == min(limit, len(rows)) and len(rows) > 100
    if limit == 1000:  # every kind of entry is in there
        assert any(r[1] for r in rows) and any(r[3] for r in rows) and any(r[4] > 1 for r in rows)
