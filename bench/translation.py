"""What the translation client path adds to a message, and what an outage costs.

Against the fake LibreTranslate on loopback (bot/sandbox/translators.py), answering at once
and after 300 ms, over a real migrated SQLite file: the full service step the relay will call
(`TranslationService.for_staff`: protect, cache look-up, HTTP, restore, isolate, seal, store)
minus the fake's own delay is the overhead. Goal (issue 15): at most 50 ms on top of the
provider's time. Then the provider hangs: the first message waits the timeout, the following
ones must not (goal: an outage costs the timeout once). The figure for a whole relay pass
comes when the step is wired into the delivery path.

    python bench/translation.py
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from _common import ROOT, machine

sys.path.insert(0, str(ROOT))

from bot.cases.repository import CaseRepository
from bot.cases.service import CaseService, Incoming
from bot.core.clock import FrozenClock
from bot.core.crypto import Cipher
from bot.core.db import Database
from bot.core.i18n import I18n
from bot.residents.repository import ResidentRepository
from bot.residents.service import ResidentService
from bot.sandbox.translators import FakeLibreTranslate
from bot.translation.libretranslate import LibreTranslate
from bot.translation.protect import mask
from bot.translation.repository import TranslationRepository
from bot.translation.service import Status, TranslationService

GOAL_MS = 50.0
TIMEOUT = 1.0
KEY = "kPHrVrOm2dbYPbM4jFMbFqXwtJ8ZCn4yZ1Mz5Wb4aSI="  # a fixed Fernet key: sealing is measured
TEXT = "عندي رسالة من Jobcenter رقم {n} بتاريخ 03.12.2026، اتصلوا على 0361 655 4321"


async def setup(folder: Path):
    clock = FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    db = await Database.open(folder / "bench.sqlite3")
    await db.migrate()
    residents = ResidentService(ResidentRepository(db), clock)
    await residents.choose_language(1, 1, "ar")
    resident = await residents.give_consent(1)
    cases = CaseService(
        CaseRepository(db, Cipher((KEY,))),
        clock,
        staff_chat_enabled=True,
        staff_tr=I18n(ZoneInfo("Europe/Berlin")).translator("de"),
        on_change=lambda case_id: None,
        suggest=lambda case, text: [],
    )
    return db, clock, cases, resident


async def messages(cases, resident, count: int, start: int):
    for n in range(start, start + count):
        await cases.receive(resident, Incoming("text", TEXT.format(n=n), None, None, 1, n), "A")
    case = await cases.current_for(resident.user_id)
    if case.status == "draft":
        await cases.choose_topic(resident, "letter", "A")
        await cases.choose_district(resident, "Rieth", "A")
        case = await cases.current_for(resident.user_id)
    stored = await cases.repo.messages(case.id, limit=100_000)
    return case, stored[-count:]


def ms(seconds: float) -> float:
    return seconds * 1000


async def measure(delay: float, count: int, folder: Path, start: int) -> tuple[float, float]:
    db, clock, cases, resident = await setup(folder / f"d{int(delay * 1000)}")
    async with FakeLibreTranslate(delay=delay) as fake:
        client = LibreTranslate(fake.url, None, TIMEOUT)
        service = TranslationService(
            client,
            None,
            TranslationRepository(db, Cipher((KEY,))),
            I18n(ZoneInfo("Europe/Berlin")),
            clock,
            timeout=TIMEOUT,
        )
        case, stored = await messages(cases, resident, count, start)
        # Warm up: the first connection and the first statement are not what a message costs.
        await client.translate(mask("warm up").markup, "de", "ar")
        service_times, client_times = [], []
        for message in stored:
            began = time.perf_counter()
            outcome = await service.for_staff(case, message)
            service_times.append(time.perf_counter() - began - delay)
            assert outcome.status is Status.TRANSLATED and not outcome.cached
            began = time.perf_counter()
            await client.translate(mask(message.text).markup, "ar", "de")
            client_times.append(time.perf_counter() - began - delay)
        cached = []
        for message in stored[:50]:
            began = time.perf_counter()
            assert (await service.for_staff(case, message)).cached
            cached.append(time.perf_counter() - began)
        await service.close()
    await db.close()
    median, p95 = statistics.median(service_times), quantile(service_times, 0.95)
    print(
        f"  provider {ms(delay):4.0f} ms, {count} messages: service step adds median"
        f" {ms(median):5.1f} ms, p95 {ms(p95):5.1f} ms (the HTTP client alone: median"
        f" {ms(statistics.median(client_times)):5.1f} ms);"
        f" a cached text {ms(statistics.median(cached)):4.1f} ms"
    )
    return median, p95


async def outage(folder: Path) -> tuple[float, float, int]:
    db, clock, cases, resident = await setup(folder / "outage")
    async with FakeLibreTranslate() as fake:
        service = TranslationService(
            LibreTranslate(fake.url, None, TIMEOUT),
            None,
            TranslationRepository(db),
            I18n(ZoneInfo("Europe/Berlin")),
            clock,
            timeout=TIMEOUT,
        )
        case, stored = await messages(cases, resident, 20, 1)
        fake.hang = True
        times = []
        for message in stored:
            began = time.perf_counter()
            outcome = await service.for_staff(case, message)
            times.append(time.perf_counter() - began)
            assert outcome.status is Status.FAILED
        asked = len(fake.translations())
        await service.close()
    await db.close()
    return times[0], max(times[1:]), asked


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> int:
    logging.basicConfig(level=logging.ERROR)  # the expected timeout warning is not news here
    print(f"machine: {machine()}")
    ok = True
    with tempfile.TemporaryDirectory(prefix="thinka-bench-") as name:
        folder = Path(name)
        for delay, count, start in ((0.0, 200, 1), (0.3, 15, 1000)):
            (folder / f"d{int(delay * 1000)}").mkdir()
            _median, p95 = await measure(delay, count, folder, start)
            good = p95 * 1000 <= GOAL_MS
            ok &= good
            verdict = "ok" if good else "MISSED"
            print(f"    goal: p95 ≤ {GOAL_MS:.0f} ms on top of the provider: {verdict}")
        (folder / "outage").mkdir()
        first, others, asked = await outage(folder)
        good = first < TIMEOUT + 0.2 and others < 0.05
        ok &= good
        print(
            f"  provider hangs, timeout {TIMEOUT:.0f} s, 20 messages: the first waits"
            f" {ms(first):.0f} ms, the slowest of the other 19 {ms(others):.1f} ms;"
            f" requests sent: {asked}"
        )
        print(f"    goal: the outage costs the timeout once: {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
