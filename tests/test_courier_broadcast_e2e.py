"""The courier while a broadcast goes out (bench/broadcast.py measures its pace), through the real
Application and the sandbox: at most `in_flight_broadcast` announcements are 'sending' at any
moment (what a kill can leave uncertain), and rows read ahead are not sent to a resident who
deleted their data meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from bot.transport.courier import Limits
from tests.conftest import ADMIN_ID, eventually

NOTICE = "Heute ist die Kontaktstelle geschlossen."


async def subscribers(sandbox, services, count: int) -> list:
    """Residents who asked for announcements in Rieth, straight into the database."""
    users = []
    for i in range(count):
        user = sandbox.add_user(first_name=f"S{i}", language_code="de")
        user.started = True
        await services.residents.choose_language(user.id, user.id, "de")
        await services.residents.give_consent(user.id)
        await services.events.subscribe(user.id, {"Rieth"})
        users.append(user)
    return users


def copies(sandbox, user) -> int:
    return sum(NOTICE in (m.text or "") for m in sandbox.messages_to(user.id))


async def test_never_more_announcements_sending_than_places_for_them(sandbox, bot, settings):
    """A place freed by an answer goes to the next row in the same transaction that records
    the answer: the count of rows 'sending' on disk (what a kill would leave uncertain) must
    never exceed the places, and they are used to the full."""
    services = bot
    users = await subscribers(sandbox, services, 40)
    sandbox.set_latency(0.05)  # requests under way long enough for every place to fill
    counts: list[int] = []

    async def watch() -> None:
        with contextlib.closing(sqlite3.connect(settings.db_path)) as conn:
            while True:
                (count,) = conn.execute(
                    "SELECT COUNT(*) FROM outgoing WHERE status = 'sending'"
                ).fetchone()
                counts.append(count)
                await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    try:
        await services.events.notice({"de": NOTICE}, ("Rieth",), ADMIN_ID)

        async def everyone():
            return all(copies(sandbox, user) for user in users)

        await eventually(everyone)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        sandbox.set_latency(0)
    assert max(counts) == Limits().in_flight_broadcast
    assert [copies(sandbox, user) for user in users] == [1] * 40


async def test_a_row_read_ahead_is_not_sent_after_its_resident_deleted_their_data(sandbox, bot):
    """Broadcast rows are read ahead, many at a time; one whose resident deletes their data
    while it waits must not go out (marking it 'sending' finds it gone)."""
    services = bot
    users = await subscribers(sandbox, services, 30)
    # The first requests hang a while: the rest wait, read ahead, behind them.
    sandbox.stall_next("sendMessage", 1.0, times=Limits().in_flight_broadcast)
    await services.events.notice({"de": NOTICE}, ("Rieth",), ADMIN_ID)

    async def places_full():
        return sandbox._inflight >= Limits().in_flight_broadcast

    await eventually(places_full)
    gone = users[-1]
    await services.erasure.erase(gone.id)

    async def the_others():
        return all(copies(sandbox, user) for user in users[:-1])

    await eventually(the_others)
    await sandbox.wait_for_idle()
    assert copies(sandbox, gone) == 0
    assert [copies(sandbox, user) for user in users[:-1]] == [1] * 29
