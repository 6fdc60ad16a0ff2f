"""Service-level fixtures: the real services over a real migrated SQLite file, no Telegram.

These tests locate a broken rule in milliseconds; the end-to-end tests prove the same rules hold
through python-telegram-bot and the Bot API sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.cases.repository import CaseRepository
from bot.cases.service import CaseService, Incoming
from bot.core.clock import FrozenClock
from bot.core.db import Database
from bot.core.i18n import STAFF_LANGUAGE, I18n
from bot.residents.repository import Resident, ResidentRepository
from bot.residents.service import ResidentService

STAFF_ID = 700


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # a Tuesday, 10:00 in Erfurt


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "thinka.sqlite3")
    await database.migrate()
    yield database
    await database.close()


@pytest.fixture
def i18n(clock) -> I18n:
    from zoneinfo import ZoneInfo

    return I18n(ZoneInfo("Europe/Berlin"))


@pytest.fixture
def residents(db, clock) -> ResidentService:
    return ResidentService(ResidentRepository(db), clock)


class Changes(list):
    """What the service told the relay about (on_change)."""

    def __call__(self, case_id: int) -> None:
        self.append(case_id)


@pytest.fixture
def changes() -> Changes:
    return Changes()


@pytest.fixture
def suggestions() -> dict[str, list[str]]:
    """Word → quick-answer ids the fake matcher offers; empty by default (straight to staff)."""
    return {}


@pytest.fixture
def cases(db, clock, i18n, changes, suggestions) -> CaseService:
    def suggest(case, text):
        return [answer for word, ids in suggestions.items() if word in text for answer in ids]

    return CaseService(
        CaseRepository(db),
        clock,
        staff_chat_enabled=True,
        staff_tr=i18n.translator(STAFF_LANGUAGE),
        on_change=changes,
        suggest=suggest,
    )


@pytest.fixture
def resident_factory(residents):
    async def make(user_id: int = 1, language: str = "ar") -> Resident:
        await residents.choose_language(user_id, user_id, language)
        resident = await residents.give_consent(user_id)
        assert resident is not None
        return resident

    return make


def text(body: str, message_id: int = 1, chat_id: int = 1) -> Incoming:
    return Incoming("text", body, None, None, chat_id, message_id)
