"""The intake under faults and floods, end to end through the real Application and the sandbox:
updates python-telegram-bot cannot read, one chat flooding, handlers that fail, a backlog, and a
database that cannot be written. (The same as a process, with kills: test_process_faults.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import pytest

from bot.app import INTAKE_KEY, SERVICES_KEY, running
from bot.core.db import Database
from bot.transport import intake as intake_module
from bot.transport import polling
from tests.conftest import ADMIN_ID, QUICK_RETRIES, agree, eventually, make_application
from tests.test_cases_e2e import (  # the staff group fixtures, shared
    case_topic,
    group,  # noqa: F401
    request,
    staff,  # noqa: F401
    staff_settings,  # noqa: F401
    topic_messages,
)
from tests.test_delivery_e2e import nudge
from tests.test_durability import webhook_settings  # noqa: F401

# What a test may wait between a failure and its retry: a day's pauses in a moment.


def _admin(sandbox):
    """The admin of THINKA_ADMIN_IDS, who has written to the bot before (so it may write back)."""
    admin = sandbox.add_user(first_name="Admina", language_code="de", user_id=ADMIN_ID)
    admin.started = True
    return admin


def _application(settings, clock):
    application = make_application(settings, clock)
    application.update_processor.retry_delays = QUICK_RETRIES
    return application


async def _rows(services, sql: str, params=()) -> list[tuple]:
    return [tuple(row) for row in await services.db.fetchall(sql, params)]


async def _state(services, update_id: int) -> tuple:
    rows = await _rows(
        services,
        "SELECT state, kind, attempts, failures, error, payload IS NOT NULL FROM inbox"
        " WHERE update_id = ?",
        (update_id,),
    )
    return rows[0] if rows else ()


# -- updates python-telegram-bot cannot read ----------------------------------------------------


async def test_an_update_the_library_cannot_read_is_quarantined_and_the_bot_goes_on(
    sandbox, settings, clock, chat_as, caplog
):
    """Issue 13.1: a poll_answer without option_persistent_ids (an older Bot API server) in the
    same batch as a resident's /start. Before, python-telegram-bot raised for the whole batch,
    the poller died and the bot answered nobody again (the same after every restart)."""
    caplog.set_level(logging.INFO)
    _admin(sandbox)
    zaynab, olga = chat_as("ar", "Zaynab"), chat_as("ru", "Olga")
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        bad = sandbox.send_poll_answer(zaynab.user, "poll-7", [1], api_9_6=False)
        notice = await olga.send("/start")  # the same getUpdates batch
        assert notice.buttons  # answered: the consent notice
        await sandbox.wait_for_idle()
        assert await _state(services, bad) == ("quarantined", "poll_answer", 0, 0, "TypeError", 1)
        # A second one: counted and kept, the admins are not told again.
        worse = sandbox.send_poll_answer(zaynab.user, "poll-8", [0], api_9_6=False)
        await agree(olga, notice)
        await sandbox.wait_for_idle()
        assert (await _state(services, worse))[0] == "quarantined"
        alerts = sandbox.messages_to(ADMIN_ID)
        assert len(alerts) == 1
        assert str(bad) in alerts[0].text and "poll_answer" in alerts[0].text
        assert "Quarantäne" in alerts[0].text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"update {bad} (poll_answer) quarantined: TypeError" in logged
    # Ids and types only: nothing of what the update said, no dump of the batch.
    assert "Zaynab" not in logged and "poll-7" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_the_webhook_answers_200_for_what_the_library_cannot_read(
    sandbox,
    webhook_settings,  # noqa: F811
    clock,
    chat_as,
):
    """Telegram retries a webhook delivery that is not answered 2xx, in order: refusing an
    update the library cannot read would hold up every update behind it."""
    zaynab, olga = chat_as("ar", "Zaynab"), chat_as("ru", "Olga")
    application = _application(webhook_settings, clock)
    async with running(application, webhook=True):
        services = application.bot_data[SERVICES_KEY]
        bad = sandbox.send_poll_answer(zaynab.user, "poll-7", [1], api_9_6=False)
        notice = await olga.send("/start")
        assert notice.buttons
        await sandbox.wait_for_idle()
        assert bad in sandbox.confirmed_update_ids
        assert (await _state(services, bad))[0] == "quarantined"


# -- the start of an update that runs at once -----------------------------------------------


async def test_an_update_that_runs_at_once_is_stored_with_its_start_in_one_commit(
    sandbox, settings, clock, chat_as
):
    """Issue 18: a /start into an idle bot was written twice before its handler ran (stored,
    then its start, each a commit waiting for the disk). Now its start is counted in the
    statement that stores it; the rule of inbox.py holds (done, one start, no failure)."""
    olga = chat_as("ru", "Olga")
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        statements: list[str] = []
        services.db._conn.set_trace_callback(statements.append)
        try:
            assert (await olga.send("/start")).buttons
            await sandbox.wait_for_idle()
        finally:
            services.db._conn.set_trace_callback(None)
        [update_id] = [row[0] for row in await _rows(services, "SELECT update_id FROM inbox")]
        assert await _state(services, update_id) == ("done", "message", 1, 0, None, 0)
    inbox_writes = [
        s
        for s in statements
        if s.lstrip().upper().startswith(("INSERT INTO INBOX", "UPDATE INBOX"))
    ]
    assert [w.split()[0] for w in inbox_writes] == ["INSERT", "UPDATE"]  # stored, then done
    assert "attempts = attempts + 1" not in inbox_writes[1]


async def test_a_command_put_back_before_its_turn_is_answered_after_the_restart(
    sandbox, settings, clock, chat_as
):
    """A shutdown that comes between storing an update (its start counted) and its turn takes
    the start back: otherwise the next run takes it for one under way at a crash, and a
    command under way at a crash is not handled again (inbox.py) — the /start would be lost."""
    olga = chat_as("ru", "Olga")
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        application.update_processor._closed = True  # what a shutdown does first (drain)
        await sandbox.send_message(olga.user, "/start")
        [(update_id,)] = await eventually(lambda: _rows(services, "SELECT update_id FROM inbox"))
        await eventually(lambda: _no_entries(application))
        assert await _state(services, update_id) == ("pending", "message", 0, 0, None, 1)
    application = _application(settings, clock)
    async with running(application):
        notice = await sandbox.wait_for_message(olga.user.id)
        assert notice.buttons  # the consent notice: answered after all
        await sandbox.wait_for_idle()
        services = application.bot_data[SERVICES_KEY]
        assert (await _state(services, update_id))[:4] == ("done", "message", 1, 0)


async def _no_entries(application) -> bool:
    return application.bot_data[INTAKE_KEY].in_memory == 0


async def test_getupdates_failing_in_every_way_loses_nothing_and_handles_nothing_twice(
    sandbox, settings, clock, chat_as, monkeypatch
):
    """Telegram's 502s, a connection closed after the offset was seen, an answer slower than the
    client waits, and a flood wait: the poller backs off, keeps its offset until a batch is
    stored, and waits what retry_after says."""
    monkeypatch.setattr(polling, "READ_GRACE", 0.3)
    residents = [chat_as(lang, f"R{i}") for i, lang in enumerate(("ar", "ru", "de", "uk", "en"))]
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await residents[0].send("/start")
        polls = len(sandbox.poll_times)
        sandbox.fail_next("getUpdates", status=502, description="Bad Gateway", times=2)
        sandbox.reset_next("getUpdates", carried_out=True)
        sandbox.stall_next("getUpdates", 3.0)  # the bot waits 1 s + 0.3 s for a long poll
        for chat in residents:
            await sandbox.send_message(chat.user, "/help")
        for chat in residents:
            await sandbox.wait_for_message(chat.id, timeout=20)
        await sandbox.wait_for_idle(timeout=10)
        # A flood wait on getUpdates: nothing is asked before retry_after is over.
        sandbox.flood_next("getUpdates", retry_after=1)
        flooded = len(sandbox.poll_times)  # the next long poll is refused
        await sandbox.send_message(residents[1].user, "/help")
        await sandbox.wait_for_message(residents[1].id, timeout=10)
        times = sandbox.poll_times
        assert times[flooded + 1] - times[flooded] >= 1.0
        await sandbox.wait_for_idle(timeout=10)
        assert [chat.seen() for chat in residents] == [2, 2, 1, 1, 1]
        pending = await _rows(services, "SELECT COUNT(*) FROM inbox WHERE state != 'done'")
        assert pending == [(0,)]
        assert len(times) - polls < 30  # backed off, not a hot loop


# -- one chat flooding --------------------------------------------------------------------------


async def test_a_resident_flooding_100_messages_does_not_hold_up_another_residents_start(
    sandbox, settings, clock, chat_as
):
    """Issue 13.2, processing side: before, the flood's updates held the shared slots while they
    waited for their chat's lock, and the newcomer's /start waited for most of the flood."""
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        amal = chat_as("ar", "Amal")
        await agree(amal, await amal.send("/start"))
        await sandbox.wait_for_idle()
        # A round trip to Telegram takes time; at loopback speed a flood would be over at once.
        sandbox.set_latency(0.02)
        sent = [await sandbox.send_message(amal.user, f"Nachricht {i}") for i in range(100)]
        await eventually(lambda: _fetched(sandbox, sent), within=10)
        oksana = chat_as("uk", "Oksana")
        loop = asyncio.get_running_loop()
        started = loop.time()
        await sandbox.send_message(oksana.user, "/start")
        answer = await sandbox.wait_for_message(oksana.id, timeout=10)
        took = loop.time() - started
        assert answer.buttons
        assert took < 1.0, f"/start answered after {took:.2f} s"
        # The flood itself: every message kept, in the order it was written.
        await sandbox.wait_for_idle(timeout=30)
        rows = await _rows(
            services,
            "SELECT source_message_id FROM case_messages WHERE source_chat_id = ? ORDER BY id",
            (amal.id,),
        )
        assert [r[0] for r in rows] == [m["message_id"] for m in sent]


async def _fetched(sandbox, sent) -> bool:
    return sandbox._max_fetched_update_id >= max(sandbox.update_ids())


async def test_staff_answers_in_two_case_topics_do_not_wait_for_each_other(
    sandbox,
    staff_settings,  # noqa: F811
    clock,
    group,  # noqa: F811
    chat_as,
    staff,  # noqa: F811
):
    """The staff group is one chat, but each case has its topic: what is said in one topic is
    handled in order, and need not wait for another topic (before, the whole group was one
    queue: one slow answer held up every colleague)."""
    application = _application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
        await request(services, amal, "سؤال", "Debt")
        await request(services, olga, "Вопрос", "Family")
        first, second = [await case_topic(sandbox, services, i) for i in (1, 2)]
        # Telegram is slow to answer in the first topic only.
        sandbox.stall_next("sendMessage", 3.0, where={"message_thread_id": first.thread_id})
        await sandbox.send_message(
            staff[0], "/t gibtesnicht", chat=group, message_thread_id=first.thread_id
        )
        await asyncio.sleep(0.2)  # under way
        loop = asyncio.get_running_loop()
        started = loop.time()
        await sandbox.send_message(
            staff[1], "/t gibtesauchnicht", chat=group, message_thread_id=second.thread_id
        )
        answer = await sandbox.wait_for_message(
            group.id, timeout=10, predicate=lambda m: m.message_thread_id == second.thread_id
        )
        assert loop.time() - started < 1.0
        assert "gibtesnicht" not in (answer.text or "")
        await sandbox.wait_for_idle(timeout=10)


# -- handlers that fail -------------------------------------------------------------------------


async def test_a_handler_that_fails_on_a_502_is_tried_again_instead_of_counted_done(
    sandbox, settings, clock, chat_as
):
    """Issue 13.4, handler side: any handler exception used to mark the update done; the
    resident got an apology and the /start they sent was never answered."""
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        olga = chat_as("ru", "Olga")
        sandbox.fail_next("sendMessage", status=502, description="Bad Gateway")
        notice = await olga.send("/start")
        assert notice.buttons and "consent:agree" in str(notice.buttons)
        await sandbox.wait_for_idle()
        assert olga.seen() == 1  # the notice, no apology
        update_id = max(sandbox.confirmed_update_ids)
        assert await _state(services, update_id) == ("done", "message", 2, 1, "NetworkError", 0)


async def test_a_bug_in_a_handler_parks_the_update_and_says_so(sandbox, settings, clock, chat_as):
    """A failure that is not transient is not retried (it would only repeat) and not counted
    done either: the update is parked with its error, the resident asked to try again, the
    admins told (no case: no topic to tell)."""
    _admin(sandbox)
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        olga = chat_as("ru", "Olga")
        sandbox.fail_next(
            "sendMessage", status=400, description="Bad Request: can't parse entities"
        )
        apology = await olga.send("/start")
        assert "попробуйте ещё раз" in apology.text
        await sandbox.wait_for_idle()
        update_id = max(sandbox.confirmed_update_ids)
        # Parked without its content: Olga has not agreed to the privacy notice, and before
        # consent nothing but id, chat and language is kept (bot/transport/parked.py).
        assert await _state(services, update_id) == ("parked", "message", 1, 1, "BadRequest", 0)
        [alert] = sandbox.messages_to(ADMIN_ID)
        assert f"Update {update_id} (message)" in alert.text and "/start" not in alert.text


async def test_a_parked_update_is_erased_with_the_residents_data(sandbox, settings, clock, chat_as):
    """A parked update keeps its content for a look after a fix; "delete my data" takes it."""
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        olga = chat_as("ru", "Olga")
        await agree(olga, await olga.send("/start"))
        sandbox.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
        await olga.send("/help")
        await sandbox.wait_for_idle()
        parked = await _rows(services, "SELECT state FROM inbox WHERE chat_id = ?", (olga.id,))
        assert ("parked",) in parked
        question = await olga.send("/delete")
        await olga.press_data(question, "privacy:delete:yes")
        await sandbox.wait_for_idle()
        held = await _rows(
            services,
            "SELECT COUNT(*) FROM inbox WHERE chat_id = ? AND payload IS NOT NULL"
            " AND state != 'pending'",
            (olga.id,),
        )
        assert held == [(0,)]


async def test_a_staff_command_that_keeps_failing_is_parked_and_reported_in_the_topic(
    sandbox,
    staff_settings,  # noqa: F811
    clock,
    group,  # noqa: F811
    chat_as,
    staff,  # noqa: F811
):
    """Issue 13.4: a staff message whose handling failed was marked done and nobody knew. Now
    it is tried MAX_ATTEMPTS times, then parked, and the topic says so, without its content."""
    application = _application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        amal = chat_as("ar", "Amal")
        await request(services, amal, "سؤال", "Debt")
        case = await case_topic(sandbox, services, 1)
        before = len(topic_messages(sandbox, group, case.thread_id))
        sandbox.fail_next("sendMessage", status=502, description="Bad Gateway", times=4)
        await sandbox.send_message(
            staff[0], "/t geheimschluessel", chat=group, message_thread_id=case.thread_id
        )
        update_id = max(sandbox.update_ids())
        notice = await sandbox.wait_for_message(group.id, timeout=10)
        await sandbox.wait_for_idle()
        assert notice.message_thread_id == case.thread_id
        assert f"Update {update_id}" in notice.text and "Versuche: 4" in notice.text
        assert "geheimschluessel" not in notice.text
        assert len(topic_messages(sandbox, group, case.thread_id)) == before + 1
        assert await _state(services, update_id) == ("parked", "message", 4, 4, "NetworkError", 1)


async def test_the_notices_of_a_parked_update_and_of_a_block_wait_out_a_telegram_outage(
    sandbox,
    staff_settings,  # noqa: F811
    clock,
    group,  # noqa: F811
    chat_as,
    staff,  # noqa: F811
):
    """The apology for a parked update went straight to the Bot API: when Telegram's failures
    were why it was parked, the apology was lost with them. It and the notices for staff (the
    parked update, the resident blocking the bot) now wait in the outgoing queue, once each."""
    application = _application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        amal = chat_as("ar", "Amal")
        await request(services, amal, "سؤال", "Debt")
        case = await case_topic(sandbox, services, 1)
        seen = amal.seen()
        sandbox.start_outage()
        await sandbox.send_message(amal.user, "/help")
        update_id = max(sandbox.update_ids())

        async def parked():
            return (await _state(services, update_id))[:1] == ("parked",)

        await eventually(parked)
        await sandbox.wait_for_idle()
        assert amal.seen() == seen
        sandbox.end_outage()
        nudge(services)
        apology = await sandbox.wait_for_message(amal.id, after=seen)
        assert "مرة أخرى" in apology.text  # "again", in Arabic

        def told(words: str) -> list:
            return [m for m in topic_messages(sandbox, group, case.thread_id) if words in m.text]

        async def told_staff(words: str):
            return told(words)

        await eventually(lambda: told_staff(f"Update {update_id}"))
        sandbox.start_outage()
        await sandbox.block_bot(amal.user)
        await sandbox.wait_for_idle()
        assert not told("blockiert")
        sandbox.end_outage()
        nudge(services)
        await eventually(lambda: told_staff("blockiert"))
        nudge(services)  # nothing is left to send a second time
        await sandbox.wait_for_idle()
        assert amal.seen() - seen == 1
        assert len(told(f"Update {update_id}")) == len(told("blockiert")) == 1


# -- a backlog ----------------------------------------------------------------------------------


async def test_a_backlog_waits_in_the_inbox_and_at_telegram_not_in_memory(
    sandbox, settings, clock, chat_as, monkeypatch
):
    """Issue 13.2: the poller queued everything in memory. Now memory holds MAX_IN_MEMORY
    updates at most, the poller stops fetching above HIGH_WATER (Telegram keeps the rest),
    leaving stops within the drain time, and the next start handles what was left, once.
    (Smaller limits than in production, so that the test takes seconds.)"""
    monkeypatch.setattr(intake_module, "HIGH_WATER", 60)
    monkeypatch.setattr(intake_module, "LOW_WATER", 30)
    monkeypatch.setattr(intake_module, "MAX_IN_MEMORY", 20)
    users = [chat_as("de", f"R{i}") for i in range(300)]
    application = _application(settings, clock)
    peaks = {"memory": 0, "backlog": 0, "unfetched": 0}
    async with running(application):
        intake = application.bot_data[INTAKE_KEY]
        sandbox.set_latency(0.01)
        for chat in users:
            await sandbox.send_message(chat.user, "/start")

        async def watch():
            while True:
                peaks["memory"] = max(peaks["memory"], intake.in_memory)
                peaks["backlog"] = max(peaks["backlog"], intake.backlog)
                peaks["unfetched"] = max(peaks["unfetched"], sandbox.pending_updates)
                await asyncio.sleep(0.005)

        watcher = asyncio.create_task(watch())
        await eventually(lambda: _answered(sandbox, users, 100), within=30)

        async def beyond_memory():  # some of the backlog is in the inbox only
            # A margin of ten: with one or two beyond memory, the bot could finish them in the
            # moment between this check and its stop, leaving nothing to check.
            return intake.backlog >= intake.in_memory + 10

        # Leave while there is one: a fast bot can have handled every fetched update while
        # the poller waits for its next batch (then nothing would be left to check).
        await eventually(beyond_memory, within=30)
        watcher.cancel()
        loop = asyncio.get_running_loop()
        leaving = loop.time()
    took = loop.time() - leaving
    assert peaks["memory"] <= 20
    assert 20 < peaks["backlog"] <= 60
    assert peaks["unfetched"] > 150  # Telegram kept what the bot did not take yet
    assert took < 6
    left = await _pending(settings.db_path)
    assert left
    # Every update Telegram counted as delivered is answered or waits in the inbox.
    answered = {chat.id for chat in users if sandbox.messages_to(chat.id)}
    for update_id in sandbox.confirmed_update_ids - left:
        assert sandbox.update(update_id)["message"]["from"]["id"] in answered
    application = _application(settings, clock)
    async with running(application):
        await eventually(lambda: _answered(sandbox, users, len(users)), within=60)
        await sandbox.wait_for_idle(timeout=10)
    assert all(len(sandbox.messages_to(chat.id)) == 1 for chat in users)  # nothing twice


async def test_stopping_does_not_wait_for_the_backlog_to_shrink(sandbox):
    """The poller waits while the inbox is above its high-water mark; a SIGTERM then must not
    wait for the backlog to drain (found by the 2,000-update process test: 15 s)."""
    from telegram import Bot

    class FullInbox:  # at its high-water mark, and nothing is handled
        async def room(self) -> int:
            await asyncio.Event().wait()
            return 0

    async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        poller = polling.Poller(bot, FullInbox(), timeout=1)
        await poller.start()
        await asyncio.sleep(0.1)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(poller.stop(), 10)
        assert loop.time() - started < 1.0


async def _answered(sandbox, users, at_least: int) -> bool:
    return await _answered_count(sandbox, users) >= at_least


async def _answered_count(sandbox, users) -> int:
    return sum(1 for chat in users if sandbox.messages_to(chat.id))


async def _pending(db_path) -> set[int]:
    db = await Database.open(db_path)
    try:
        rows = await db.fetchall("SELECT update_id FROM inbox WHERE state = 'pending'")
        return {row[0] for row in rows}
    finally:
        await db.close()


# -- a database that cannot be written ----------------------------------------------------------

STORAGE_FAULTS = {
    # SQLITE_FULL: no page may be added (as a full disk or quota).
    "full": ("PRAGMA max_page_count = 1", "PRAGMA max_page_count = 1073741823"),
    # SQLITE_READONLY: as a read-only file or folder (the tests run as root, so chmod would not
    # stop the bot's own connection; query_only gives the same error from the same place).
    "read-only": ("PRAGMA query_only = ON", "PRAGMA query_only = OFF"),
}


@pytest.mark.parametrize("fault", sorted(STORAGE_FAULTS))
async def test_a_database_that_cannot_be_written_tells_people_once_and_recovers_by_itself(
    sandbox, settings, clock, chat_as, caplog, monkeypatch, fault
):
    """Issue 13.6: before, residents got silence and admins a traceback a second in the log.
    Real SQLite errors from the bot's own connection, no mocks."""
    monkeypatch.setattr(intake_module, "PROBE_DELAYS", (0.1, 0.2))
    monkeypatch.setattr(polling, "MAX_BACKOFF", 0.6)
    caplog.set_level(logging.INFO)
    _admin(sandbox)
    amal = chat_as("ar", "Amal")
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await agree(amal, await amal.send("/start"))
        await amal.ask("سؤال عن الإيجار")  # a request: what follows goes into it
        await sandbox.wait_for_idle()
        seen = amal.seen()
        break_it, mend_it = STORAGE_FAULTS[fault]
        if fault == "full":
            # Free pages would take a few more rows: fill them first, as a full disk would be.
            await services.db.execute("CREATE TABLE ballast (x BLOB)")
            await services.db.execute(break_it)
            with contextlib.suppress(sqlite3.OperationalError):
                while True:
                    await services.db.execute("INSERT INTO ballast VALUES (zeroblob(3000))")
        else:
            await services.db.execute(break_it)
        outage_starts = len(caplog.records)
        written = []
        for i in range(12):
            # About 2 kB each: no row fits in what is left of a page.
            text = f"رسالة {i} " + "مرحبا " * 160
            written.append(await sandbox.send_message(amal.user, text))
            await asyncio.sleep(0.05)
        t = services.i18n.translator("ar")
        problem = t._(
            "Sorry, we have a technical problem at the moment. Your message is not lost: we "
            "will take care of it as soon as the problem is solved."
        )
        await eventually(lambda: _got(sandbox, amal.id, problem), within=10)
        await eventually(lambda: _got(sandbox, ADMIN_ID, "Datenbank"), within=10)
        await asyncio.sleep(1.0)  # a second more of outage: still one notice each
        during = caplog.records[outage_starts:]
        # Nothing is confirmed to Telegram that is not stored.
        stored = {r[0] for r in await _rows(services, "SELECT update_id FROM inbox")}
        assert sandbox.confirmed_update_ids <= stored
        await services.db.execute(mend_it)
        await eventually(lambda: _all_stored(services, amal.id, written), within=15)
        await eventually(lambda: _got(sandbox, ADMIN_ID, "wieder"), within=10)
        await sandbox.wait_for_idle()
        told = [m for m in sandbox.messages_to(amal.id)[seen:] if m.text == problem]
        assert len(told) == 1
        alerts = sandbox.messages_to(ADMIN_ID)
        assert len(alerts) == 2 and "⚠️" in alerts[0].text and "✅" in alerts[1].text
    # One line, not a traceback a second (the relay and the outbox are not part of the intake).
    ours = [
        r
        for r in during
        if not r.name.startswith(("bot.transport.relay", "bot.events", "bot.jobs", "apscheduler"))
    ]
    assert not [r for r in ours if r.exc_info], [r.getMessage() for r in ours if r.exc_info]
    assert len([r for r in ours if r.levelno >= logging.WARNING]) <= 15


async def _got(sandbox, chat_id: int, text: str) -> bool:
    return any(text in (m.text or "") for m in sandbox.messages_to(chat_id))


async def _all_stored(services, chat_id: int, written) -> bool:
    rows = await _rows(
        services,
        "SELECT source_message_id FROM case_messages WHERE source_chat_id = ?",
        (chat_id,),
    )
    ids = [r[0] for r in rows]
    wanted = [m["message_id"] for m in written]
    assert len(ids) == len(set(ids))  # never twice
    return set(wanted) <= set(ids)


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
async def test_a_database_locked_by_another_process_is_waited_out(
    sandbox, settings, clock, chat_as, monkeypatch
):
    """Another process (a second bot, a careless sqlite3 shell) holds the write lock longer than
    SQLite's busy timeout (5 s): the same as a full disk, with SQLite's own "database is
    locked". (Slow: every write waits out the busy timeout; the quick siblings are above.)"""
    import sys

    monkeypatch.setattr(intake_module, "PROBE_DELAYS", (0.5, 1.0))
    monkeypatch.setattr(polling, "MAX_BACKOFF", 3.0)
    _admin(sandbox)
    amal = chat_as("ar", "Amal")
    application = _application(settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        await agree(amal, await amal.send("/start"))
        await amal.ask("سؤال عن الإيجار")
        await sandbox.wait_for_idle()
        holder = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            HOLD_LOCK,
            str(settings.db_path),
            "12",
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            assert (await holder.stdout.readline()).strip() == b"locked"
            written = [await sandbox.send_message(amal.user, f"رسالة {i}") for i in range(3)]
            await eventually(lambda: _got(sandbox, ADMIN_ID, "gesperrt"), within=20)
            await eventually(lambda: _got(sandbox, amal.id, "مشكلة تقنية"), within=20)
        finally:
            await holder.wait()
        await eventually(lambda: _all_stored(services, amal.id, written), within=30)
        await eventually(lambda: _got(sandbox, ADMIN_ID, "wieder"), within=15)
