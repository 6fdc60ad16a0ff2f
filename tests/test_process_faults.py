"""The bot as a process meets its worst moments: kill -9 in the middle of a busy conversation,
SIGTERM, a damaged or locked database file, and a backup taken while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox import BotApiSandbox, SandboxUser
from handlers.shared import keyboards
from tests.conftest import Chat
from tests.test_cli import ROOT, cli, start_bot


@pytest.fixture(autouse=True)
def importable(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


LANGUAGES = ("ar", "ru", "de", "uk", "en")


async def _stop(process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def open_case(
    sandbox: BotApiSandbox, user: SandboxUser, text: str | None = None, topic: str = "debt"
) -> None:
    """Onboarding and a first question, by button data (any language). With `text` the question
    is sent without waiting for the answer (a kill may come first)."""
    chat = Chat(sandbox, user)
    before = chat.seen()
    await sandbox.send_message(user, "/start")
    # The first answer after a (re)start waits for the process to come up (imports, migrations):
    # on a busy machine that takes longer than the 5 s a reply may take once the bot runs.
    notice = await sandbox.wait_for_message(user.id, after=before, timeout=30)
    opt_in = await chat.press_data(notice, keyboards.CONSENT_AGREE)
    menu = await chat.press_data(opt_in, "ev:optin:none")
    topics = await chat.press_data(menu, keyboards.MENU_ASK)
    districts = await chat.press_data(topics, keyboards.REQUEST_TOPIC_PREFIX + topic)
    await chat.press_data(districts, keyboards.REQUEST_DISTRICT_PREFIX + "0")
    if text is not None:
        await sandbox.send_message(user, text)
    else:
        await chat.send(f"Erste Frage von {user.first_name}")


def _query(db: Path, sql: str) -> list[tuple]:
    # closing(): sqlite3's own context manager commits but leaves the connection open.
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def _stored_messages(db: Path) -> set[tuple[int, int]]:
    return set(_query(db, "SELECT source_chat_id, source_message_id FROM case_messages"))


def _pending_in_inbox(db: Path) -> int:
    return _query(db, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")[0][0]


async def _until(check, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def _kill_rounds(tmp_path: Path, rounds: int, seed: int) -> int:
    """Returns how many restarts found updates in the inbox that the killed run had stored
    but not finished."""
    rng = random.Random(seed)
    db = tmp_path / "thinka.sqlite3"
    log = tmp_path / "bot.log"
    async with BotApiSandbox() as sandbox:
        users = [
            sandbox.add_user(first_name=f"R{i}", language_code=LANGUAGES[i % 5]) for i in range(8)
        ]
        process = await start_bot(tmp_path, sandbox, log=log)
        try:
            for user in users:
                await open_case(sandbox, user)
            onboarded = len(sandbox.calls)
            answered_before = {u.id: len(sandbox.messages_to(u.id)) for u in users}
            texts: dict[int, tuple[int, int]] = {}  # update_id -> (chat, message)
            commands: Counter[int] = Counter()
            for _ in range(rounds):
                # A burst: every resident writes a few messages and now and then asks /mycases;
                # the process is killed at a random moment inside it.
                kill_at = time.monotonic() + rng.uniform(0.05, 0.8)
                killed = False
                for step in range(6):
                    for user in users:
                        if rng.random() < 0.15:
                            await sandbox.send_message(user, "/mycases")
                            commands[user.id] += 1
                        else:
                            sent = await sandbox.send_message(user, f"{user.first_name} {step}")
                            update_id = max(sandbox.update_ids())
                            texts[update_id] = (user.id, sent["message_id"])
                    await asyncio.sleep(rng.uniform(0.0, 0.05))
                    if not killed and time.monotonic() >= kill_at:
                        process.kill()  # SIGKILL: no shutdown code runs
                        await process.wait()
                        killed = True
                if not killed:
                    await asyncio.sleep(max(0.0, kill_at - time.monotonic()))
                    process.kill()
                    await process.wait()
                process = await start_bot(tmp_path, sandbox, log=log)

            # Let the last run catch up: Telegram has nothing left and the inbox is empty.
            await _until(lambda: not sandbox.pending_updates)
            await _until(lambda: _pending_in_inbox(db) == 0)
            await sandbox.wait_for_idle(timeout=15)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)

        # 1. Every message Telegram counted as delivered to the bot is in a case.
        stored = _stored_messages(db)
        delivered = {key for uid, key in texts.items() if uid in sandbox.confirmed_update_ids}
        assert len(delivered) == len(texts)  # after the last run, all of them
        assert delivered <= stored, f"lost: {sorted(delivered - stored)}"
        # 2. Nobody got an answer twice: one 👍 per message at most, and no more /mycases
        #    answers than /mycases asked (a command under way at the kill may go unanswered).
        reactions = Counter(
            (int(p["chat_id"]), int(p["message_id"]))
            for name, p in sandbox.calls[onboarded:]
            if name == "setMessageReaction"
        )
        assert max(reactions.values()) == 1
        assert len(reactions) >= 0.9 * len(texts)
        for user in users:
            # Their texts get a 👍 only, so every new message answers a /mycases; one that
            # was under way at a kill is not answered again (at most one per chat and kill).
            answers = len(sandbox.messages_to(user.id)) - answered_before[user.id]
            assert commands[user.id] - rounds <= answers <= commands[user.id]
    return log.read_text().count("from the previous run are handled first")


async def test_kill_9_during_a_busy_conversation_loses_nothing_and_answers_nothing_twice(
    tmp_path,
):
    await _kill_rounds(tmp_path, rounds=3, seed=11)


@pytest.mark.slow
async def test_kill_9_many_rounds(tmp_path):
    replayed = await _kill_rounds(tmp_path, rounds=12, seed=12)
    assert replayed >= 1  # some kills did land between storing and finishing an update


async def test_sigterm_finishes_the_updates_under_way_and_leaves_the_rest_in_the_inbox(tmp_path):
    db = tmp_path / "thinka.sqlite3"
    async with BotApiSandbox() as sandbox:
        users = [sandbox.add_user(language_code=LANGUAGES[i % 5]) for i in range(40)]
        process = await start_bot(tmp_path, sandbox)
        try:
            first = users[0]
            await sandbox.send_message(first, "/start")
            await sandbox.wait_for_message(first.id, timeout=30)  # the bot is up
            sandbox.set_latency(0.02)  # Telegram's round trip: a backlog builds up
            for user in users[1:]:
                await sandbox.send_message(user, "/start")
            await asyncio.sleep(0.3)  # some are being handled, some wait
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 10)
            took = time.monotonic() - started
        finally:
            await _stop(process)
        assert code == 0 and took < 10
        err = (await process.stderr.read()).decode()
        assert "stopped" in err, err
        # Every update Telegram counted as delivered was answered or waits in the inbox.
        answered = {u.id for u in users if sandbox.messages_to(u.id)}
        waiting = {
            row[0] for row in _query(db, "SELECT update_id FROM inbox WHERE state = 'pending'")
        }
        for update_id in sandbox.confirmed_update_ids - waiting:
            assert sandbox.update(update_id)["message"]["from"]["id"] in answered
        # Closed cleanly: the last connection folded the write-ahead log into the file.
        assert not (tmp_path / "thinka.sqlite3-wal").exists()

        # The next start handles what was left, and nothing twice.
        process = await start_bot(tmp_path, sandbox)
        try:
            await _until(lambda: all(sandbox.messages_to(u.id) for u in users))
            await _until(lambda: _pending_in_inbox(db) == 0)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)
        assert all(len(sandbox.messages_to(u.id)) == 1 for u in users)


@pytest.mark.slow
async def test_a_backlog_of_2000_is_fetched_as_handled_and_sigterm_still_ends_within_10_s(
    tmp_path,
):
    """Issue 13.2: the poller fetched whatever Telegram had into memory, and a SIGTERM with a
    backlog waited for all of it. Now Telegram keeps what is above the inbox's high-water mark,
    and a SIGTERM waits only for the updates under way."""
    from bot.transport.intake import HIGH_WATER
    from bot.transport.polling import BATCH

    db = tmp_path / "thinka.sqlite3"
    async with BotApiSandbox() as sandbox:
        users = [sandbox.add_user(language_code=LANGUAGES[i % 5]) for i in range(2000)]
        process = await start_bot(tmp_path, sandbox)
        try:
            await sandbox.send_message(users[0], "/start")
            await sandbox.wait_for_message(users[0].id, timeout=30)
            sandbox.set_latency(0.02)
            for user in users[1:]:
                await sandbox.send_message(user, "/start")
            ahead = 0
            for _ in range(40):
                await asyncio.sleep(0.05)
                answered = sum(1 for u in users if sandbox.messages_to(u.id))
                ahead = max(ahead, len(sandbox.confirmed_update_ids) - answered)
            assert ahead <= HIGH_WATER + BATCH
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 15)
            took = time.monotonic() - started
            assert code == 0 and took < 10
            assert _pending_in_inbox(db) > 0
            sandbox.set_latency(0)
            process = await start_bot(tmp_path, sandbox)
            await _until(lambda: all(sandbox.messages_to(u.id) for u in users), within=120)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)
        assert all(len(sandbox.messages_to(u.id)) == 1 for u in users)


FAULTS = Path(__file__).resolve().parent / "faults"


async def test_an_update_the_library_cannot_read_does_not_stop_the_process_or_leak_into_the_log(
    tmp_path,
):
    """Issue 13.1 as an operator saw it: one poll_answer from another Bot API version, and the
    bot answered nobody, after every restart, with the whole batch (names, texts) in the log."""
    async with BotApiSandbox() as sandbox:
        zaynab = sandbox.add_user(first_name="Zaynab", language_code="ar")
        olga = sandbox.add_user(first_name="Olga", language_code="ru")
        process = await start_bot(tmp_path, sandbox)
        try:
            await sandbox.send_message(olga, "/start")
            await sandbox.wait_for_message(olga.id, timeout=30)
            bad = sandbox.send_poll_answer(zaynab, "poll-7", [1], api_9_6=False)
            await sandbox.send_message(zaynab, "Mietschulden seit März")  # the same batch
            await sandbox.send_message(olga, "/help")
            await sandbox.wait_for_message(olga.id, timeout=10)
            await sandbox.wait_for_message(zaynab.id, timeout=10)
        finally:
            process.send_signal(signal.SIGTERM)
            code = await asyncio.wait_for(process.wait(), 15)
        err = (await process.stderr.read()).decode()
        assert code == 0, err
        assert f"update {bad} (poll_answer) quarantined" in err
        assert "Zaynab" not in err and "Mietschulden" not in err and "Traceback" not in err
        # The next start does not trip over it again: it stays put aside.
        process = await start_bot(tmp_path, sandbox)
        try:
            await sandbox.send_message(olga, "/help")
            await sandbox.wait_for_message(olga.id, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
        db = tmp_path / "thinka.sqlite3"
        assert _query(db, f"SELECT state, kind FROM inbox WHERE update_id = {bad}") == [
            ("quarantined", "poll_answer")
        ]


async def test_a_poller_that_dies_ends_the_process_with_one_line_for_a_restart(
    tmp_path, monkeypatch
):
    """Issue 13.1: the poller died and the process stayed up, answering nobody. Now an
    unexpected error in receiving ends the process with status 1 and one line, so that docker
    or systemd start it again. (The bug is put into the real process from outside:
    tests/faults/sitecustomize.py.)"""
    monkeypatch.setenv("PYTHONPATH", f"{FAULTS}:{ROOT}")
    async with BotApiSandbox() as sandbox:
        olga = sandbox.add_user(first_name="Olga", language_code="ru")
        process = await start_bot(tmp_path, sandbox, TEST_FAULT="poller-bug")
        try:
            await sandbox.send_message(olga, "/start")
            code = await asyncio.wait_for(process.wait(), 20)
        finally:
            await _stop(process)
    err = (await process.stderr.read()).decode()
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("thinka: error: receiving updates failed: RuntimeError at ")
    assert "Traceback" not in err


async def test_a_webhook_receiver_that_fails_ends_the_process_with_one_line(
    tmp_path, monkeypatch, unused_tcp_port
):
    """The same supervision in webhook mode: the request is answered 500 (Telegram delivers the
    update again), and the process exits with status 1 for its supervisor to restart it."""
    monkeypatch.setenv("PYTHONPATH", f"{FAULTS}:{ROOT}")
    url = f"http://127.0.0.1:{unused_tcp_port}/thinka/hook"
    async with BotApiSandbox() as sandbox:
        olga = sandbox.add_user(first_name="Olga", language_code="ru")
        process = await start_bot(
            tmp_path,
            sandbox,
            TEST_FAULT="intake-bug",
            THINKA_WEBHOOK_URL=url,
            THINKA_WEBHOOK_SECRET="s3cret",
            THINKA_WEBHOOK_LISTEN=f"127.0.0.1:{unused_tcp_port}",
        )
        try:
            await _until(lambda: any(name == "setWebhook" for name, _ in sandbox.calls))
            await sandbox.send_message(olga, "/start")  # the sandbox posts it to the webhook
            code = await asyncio.wait_for(process.wait(), 20)
        finally:
            await _stop(process)
    err = (await process.stderr.read()).decode()
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("thinka: error: receiving updates failed: RuntimeError at ")
    assert "Traceback" not in err
    assert not sandbox.confirmed_update_ids  # never answered 2xx: Telegram keeps it


async def test_an_update_under_way_at_two_crashes_is_quarantined_and_the_rest_goes_on(tmp_path):
    """An update that takes the process down (here: it hangs until the process is killed, as
    a native crash or the OOM killer would end it) is replayed once, alone; under way at a
    second death, it is quarantined at the next start instead of killing the bot again."""
    async with BotApiSandbox() as sandbox:
        admin = sandbox.add_user(first_name="Admina", language_code="de", user_id=900_001)
        admin.started = True
        boris = sandbox.add_user(first_name="Boris", language_code="de")
        amal = sandbox.add_user(first_name="Amal", language_code="ar")
        group = sandbox.add_group(
            title="Th.INKA Team", kind="supergroup", is_forum=True, members={boris.id: "member"}
        )
        env = {"THINKA_STAFF_CHAT_ID": str(group.id), "THINKA_ADMIN_IDS": str(admin.id)}
        process = await start_bot(tmp_path, sandbox, **env)
        try:
            await open_case(sandbox, amal)
            await _until(lambda: any(not t.get("deleted") for t in sandbox.topics(group).values()))
            thread = next(iter(sandbox.topics(group)))
            # Boris answers; asking Telegram whether he is staff never comes back.
            sandbox.stall_next("getChatMember", 300, times=2, where={"user_id": boris.id})
            await sandbox.send_message(boris, "Ihre Antwort", group, message_thread_id=thread)
            answer = max(sandbox.update_ids())
            for death in (1, 2):
                # Killed while the answer is under way: at first with the others, then alone.
                await _until(lambda n=death: _lookups(sandbox, boris.id) >= n)
                process.kill()
                await process.wait()
                process = await start_bot(tmp_path, sandbox, **env)
            await sandbox.send_message(amal, "/mycases")
            await sandbox.wait_for_message(amal.id, timeout=30)
            await _until(lambda: _admin_told(sandbox, admin.id, answer))
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)
        db = tmp_path / "thinka.sqlite3"
        assert _query(db, f"SELECT state, error FROM inbox WHERE update_id = {answer}") == [
            ("quarantined", "under way at 2 crashes")
        ]


def _lookups(sandbox: BotApiSandbox, user_id: int) -> int:
    return sum(
        1 for name, p in sandbox.calls if name == "getChatMember" and p.get("user_id") == user_id
    )


def _admin_told(sandbox: BotApiSandbox, admin_id: int, update_id: int) -> bool:
    return any(str(update_id) in (m.text or "") for m in sandbox.messages_to(admin_id))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_damaged_database_file_stops_start_up_with_one_line_and_stays_untouched(
    tmp_path,
):
    db = tmp_path / "thinka.sqlite3"
    db.write_bytes(b"this was a database once" * 200)
    before = _sha256(db)
    code, _, err = await cli(tmp_path, "run", TELEGRAM_BOT_TOKEN="123456:abcdefghijk")
    assert code == 2
    assert err.strip().count("\n") == 0 and "damaged or not a database" in err
    assert "Traceback" not in err
    assert _sha256(db) == before


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(60)
"""


async def test_a_locked_database_file_stops_start_up_with_one_line_and_stays_untouched(
    tmp_path,
):
    db = tmp_path / "thinka.sqlite3"
    code, _, err = await cli(tmp_path, "migrate")
    assert code == 0, err
    before = _sha256(db)
    # Another process (a second bot, a careless sqlite3 shell) holds the write lock.
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLD_LOCK, str(db), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert (await holder.stdout.readline()).strip() == b"locked"
        code, _, err = await cli(tmp_path, "run", TELEGRAM_BOT_TOKEN="123456:abcdefghijk")
        assert code == 2, err
        assert err.strip().count("\n") == 0 and "locked" in err
    finally:
        await _stop(holder)
    assert _sha256(db) == before


async def test_backup_while_the_bot_runs_restores_to_a_working_bot(tmp_path):
    async with BotApiSandbox() as sandbox:
        amal = sandbox.add_user(first_name="Amal", language_code="ar")
        process = await start_bot(tmp_path, sandbox)
        try:
            await open_case(sandbox, amal)
            code, out, err = await cli(tmp_path, "backup", str(tmp_path / "backup"))
            assert code == 0, err
            copy = next((tmp_path / "backup").glob("thinka-2*.sqlite3"))
            assert str(copy) in out
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)

        assert _query(copy, "PRAGMA integrity_check") == [("ok",)]
        texts = [row[0] for row in _query(copy, "SELECT text FROM case_messages")]
        assert texts == ["Erste Frage von Amal"]

        # Restore: a bot started on the copy knows the resident and their case.
        restored = tmp_path / "restored"
        restored.mkdir()
        (restored / "thinka.sqlite3").write_bytes(copy.read_bytes())
        process = await start_bot(restored, sandbox)
        try:
            chat = Chat(sandbox, amal)
            listing = await chat.send("/mycases")
            assert "#1" in listing.text
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 15)


async def test_telegram_unreachable_at_start_is_one_line_not_a_traceback(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, err = await cli(
        tmp_path,
        "run",
        TELEGRAM_BOT_TOKEN="123456:abcdefghijk",
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}/bot",
    )
    assert code == 1
    lines = [line for line in err.splitlines() if "error" in line]
    assert lines == [lines[0]] and "cannot be reached" in lines[0]
    assert "Traceback" not in err


async def test_a_token_revoked_while_running_stops_the_bot_with_one_line(tmp_path):
    async with BotApiSandbox() as sandbox:
        user = sandbox.add_user(language_code="de")
        process = await start_bot(tmp_path, sandbox)
        try:
            await sandbox.send_message(user, "/start")
            await sandbox.wait_for_message(user.id, timeout=30)
            sandbox.token = "123456789:REVOKED-token-abcdefghijklmnop"  # @BotFather /revoke
            await sandbox.send_message(user, "/help")  # wakes the long poll
            code = await asyncio.wait_for(process.wait(), 20)
        finally:
            await _stop(process)
    err = (await process.stderr.read()).decode()
    assert code == 2
    # The last word is one line for the operator (the /help that failed is in the log above).
    assert err.strip().splitlines()[-1].startswith("thinka: error: Telegram refuses")
