"""The courier while a broadcast goes out (bench/broadcast.py measures its pace), through the real
Application and the sandbox: the progress shown to staff holds up nothing else, at most
`in_flight_broadcast` announcements are 'sending' at any moment (what a kill can leave
uncertain), and rows read ahead are not sent to a resident who deleted their data meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time

from bot.core.outgoing import Envelope, Text, to_chat
from bot.transport.courier import Limits
from tests.conftest import ADMIN_ID, Chat, eventually

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


async def test_a_hanging_progress_edit_holds_up_no_answer_to_a_resident(sandbox, bot):
    """Found measuring bench/broadcast.py: the courier's loop waited for every progress edit (a
    request to Telegram) before it recorded the next answers or sent anything else. While
    Telegram took its time over the edit, an answer to a resident waited as long."""
    services = bot
    residents = await subscribers(sandbox, services, 3)
    admin = Chat(sandbox, sandbox.add_user(first_name="Admin", user_id=ADMIN_ID))
    shown = await admin.send("/start")  # a message of the bot's to stand for the progress
    # The last announcement's answer comes a second later: it is recorded, and its progress
    # shown, after the progress message is known; that edit then hangs for three seconds.
    sandbox.stall_next("sendMessage", 1.0, where={"chat_id": residents[2].id})
    sandbox.stall_next("editMessageText", 3.0)
    broadcast_id, _ = await services.events.notice({"de": NOTICE}, ("Rieth",), ADMIN_ID)
    await services.events.set_progress_message(broadcast_id, admin.id, shown.message_id)

    async def all_there():
        return all(copies(sandbox, user) for user in residents)

    await eventually(all_there)
    await asyncio.sleep(0.3)  # its answer is back: the progress edit is under way, hanging
    started = time.monotonic()
    await services.courier.send(
        Envelope(to_chat(residents[0].id), Text("Ihre Antwort"), key="answer:while-editing")
    )

    async def answered():
        return any(m.text == "Ihre Antwort" for m in sandbox.messages_to(residents[0].id))

    await eventually(answered)
    assert time.monotonic() - started < 1.0  # not after the edit's three seconds


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
