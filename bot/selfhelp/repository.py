"""Self-help answers in use: the content currently loaded (reloadable), and what residents do
with the answers (counts for staff and the report; no resident id, no text)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bot.core.db import Database, Transaction
from bot.selfhelp.content import CONTENT_DIR, Content, load_content

logger = logging.getLogger(__name__)

EVENTS = ("suggested", "opened", "helped", "asked")


@dataclass(frozen=True)
class AnswerFigures:
    answer_id: str
    suggested: int = 0
    opened: int = 0
    helped: int = 0
    asked: int = 0


class SelfHelpRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        answer_ids: list[str] | tuple[str, ...],
        event: str,
        language: str,
        now: datetime,
        case_id: int | None = None,
        tx: Transaction | None = None,
    ) -> None:
        """Count what residents did with answers; inside `tx` when given (e.g. "offered",
        recorded by the courier with the offer's delivery)."""
        if event not in EVENTS:
            raise ValueError(event)
        if not answer_ids:
            return
        day = now.date().isoformat()
        rows = [(answer_id, event, case_id, language, day) for answer_id in answer_ids]
        sql = (
            "INSERT INTO selfhelp_events (answer_id, event, case_id, language, day)"
            " VALUES (?, ?, ?, ?, ?)"
        )
        if tx is not None:
            await tx.executemany(sql, rows)
            return
        async with self._db.transaction() as own:
            await own.executemany(sql, rows)

    async def for_case(self, case_id: int) -> dict[str, set[str]]:
        """answer id -> what happened to it, for the answers offered before this case."""
        rows = await self._db.fetchall(
            "SELECT answer_id, event FROM selfhelp_events WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        seen: dict[str, set[str]] = defaultdict(set)
        for answer_id, event in rows:
            seen[answer_id].add(event)
        return dict(seen)

    async def figures(self, start: date, end: date) -> list[AnswerFigures]:
        """Per answer, for the days start..end (UTC days), most suggested first."""
        rows = await self._db.fetchall(
            "SELECT answer_id, event, COUNT(*) FROM selfhelp_events WHERE day BETWEEN ? AND ?"
            " GROUP BY answer_id, event",
            (start.isoformat(), end.isoformat()),
        )
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for answer_id, event, count in rows:
            counts[answer_id][event] += count
        figures = [AnswerFigures(answer_id, **dict(c)) for answer_id, c in counts.items()]
        return sorted(figures, key=lambda f: (-f.suggested - f.opened, f.answer_id))


class ContentStore:
    """The content in use. /reload swaps it in one step; a broken set is refused and the old
    one stays, so a typo in a file never takes the answers away from residents."""

    def __init__(self, folder: Path = CONTENT_DIR) -> None:
        self._folder = folder
        self.current: Content = load_content(folder)

    def reload(self) -> Content:
        content = load_content(self._folder)  # raises ContentError, leaving `current` as it is
        self.current = content
        logger.info(
            "content reloaded: %d answers, %d Wegweiser entries",
            len(content.answers),
            len(content.services),
        )
        return content
