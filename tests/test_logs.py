"""Logs never carry content, at any level (issue 14, finding 3).

The suite as a whole runs its flows with logging at DEBUG through the bot's guarded handler
(tests/conftest.py, logs_carry_no_content). Here: the real process, as an operator runs it with
THINKA_LOG_LEVEL=DEBUG, through a whole conversation and an update the library cannot read; and
the guard itself."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import time

import pytest

from bot.core.logs import WITHHELD, guarded_handler, person
from bot.sandbox import BotApiSandbox
from tests.test_cli import ROOT, start_bot

RESIDENT_ID = 7_123_456_789
SECRETS = (
    "Zyxwana",  # first name
    "Ubelkova",  # last name
    "zyxwana_rieth",  # username
    "Mietschulden bei Frau Qwertzuiop",  # the request
    "Plmoknijb",  # the social worker's answer
    "Uhbygvtfc",  # an internal note
    "nicht mehr leben, sagt Okmijn",  # a message with signs of danger
    "Asdfghjkl",  # in an update python-telegram-bot cannot read
    "Svetlana",  # the social worker's name
    str(RESIDENT_ID),
)


async def eventually(check, within: float = 20.0):
    deadline = time.monotonic() + within
    while not (result := check()):
        assert time.monotonic() < deadline, "the bot did not get there in time"
        await asyncio.sleep(0.05)
    return result


async def test_a_whole_conversation_at_debug_level_leaves_no_content_in_the_log(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # this checkout's code in the child process
    log = tmp_path / "bot.log"
    async with BotApiSandbox() as sandbox:
        resident = sandbox.add_user(
            first_name="Zyxwana",
            last_name="Ubelkova",
            username="zyxwana_rieth",
            language_code="de",
            user_id=RESIDENT_ID,
        )
        worker = sandbox.add_user(first_name="Svetlana", language_code="de", user_id=700_001)
        group = sandbox.add_group(
            title="Team", kind="supergroup", is_forum=True, members={worker.id: "member"}
        )
        process = await start_bot(
            tmp_path,
            sandbox,
            log=log,
            THINKA_LOG_LEVEL="DEBUG",
            THINKA_STAFF_CHAT_ID=str(group.id),
        )
        try:
            await converse(sandbox, resident, worker, group)
        finally:
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 10) == 0
    written = log.read_text("utf-8")
    # The log was written, the quarantine of the unreadable update included (ids and type only).
    assert "case 1 submitted" in written and "quarantined: TypeError" in written
    assert [secret for secret in SECRETS if secret in written] == []


async def converse(sandbox: BotApiSandbox, resident, worker, group) -> None:
    """Consent, a request through topic and district, the staff answer and a note in the case's
    topic, a message with signs of danger, and an update that cannot be read."""

    def new_for(chat_id: int, after: int):
        messages = sandbox.messages_to(chat_id)
        return messages[-1] if len(messages) > after else None

    def answered(query) -> bool:
        return any(a.get("callback_query_id") == query["id"] for a in sandbox.callback_answers)

    async def press(message, data):
        query = await sandbox.press_button(resident, message, data)
        await eventually(lambda: answered(query))
        await asyncio.sleep(0.3)  # the edit or message that follows the answer
        return sandbox.messages_to(resident.id)[-1]

    async def say(text: str):
        seen = len(sandbox.messages_to(resident.id))
        await sandbox.send_message(resident, text)
        return await eventually(lambda: new_for(resident.id, seen))

    notice = await say("/start")
    menu = await press(await press(notice, "consent:agree"), "ev:optin:none")
    assert menu is not None
    topics = await say("Mietschulden bei Frau Qwertzuiop")
    districts = await press(topics, "req:topic:housing")
    step = await press(districts, "req:district:1")
    if any(b.get("callback_data") == "sh:a" for row in step.buttons for b in row):
        await press(step, "sh:a")  # past the quick answers
    thread = await eventually(lambda: next(iter(sandbox.topics(group)), None))
    await eventually(lambda: len(sandbox.messages_to(group.id)) >= 2)  # card and copy
    seen = len(sandbox.messages_to(resident.id))
    await sandbox.send_message(worker, "Antwort: Plmoknijb", chat=group, message_thread_id=thread)
    await eventually(lambda: new_for(resident.id, seen))
    await sandbox.send_message(
        worker, "/note Intern Uhbygvtfc", chat=group, message_thread_id=thread
    )
    await eventually(
        lambda: any(method == "setMessageReaction" for method, _ in sandbox.calls[-5:])
    )
    await say("Ich will nicht mehr leben, sagt Okmijn")
    # "from" without first_name: python-telegram-bot refuses the whole batch.
    unreadable = sandbox.inject(
        "message",
        {
            "message_id": 999,
            "date": 1_790_000_000,
            "chat": {"id": resident.id, "type": "private", "first_name": "Zyxwana"},
            "from": {"id": resident.id, "is_bot": False, "username": "zyxwana_rieth"},
            "text": "Asdfghjkl",
        },
    )
    assert unreadable is not None
    await eventually(lambda: sandbox.fetched(unreadable))
    await asyncio.sleep(0.5)  # python-telegram-bot logs the batch it cannot read


@pytest.fixture
def guarded():
    """A logger tree of our own and one of a library, into the bot's guarded handler."""
    written = io.StringIO()
    handler = guarded_handler(written)
    loggers = [logging.getLogger("bot.example"), logging.getLogger("telegram.example")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    yield written
    for logger in loggers:
        logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_libraries_lose_their_details_our_lines_stay_as_written(guarded):
    library = logging.getLogger("telegram.example")
    library.debug("Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", "Zyxwana")
    library.info("HTTP Request: POST %s", "https://api.telegram.org/bot123:SECRET/getMe")
    library.critical("Error while parsing updates! Received data was %r", [{"text": "Qwertz"}])
    request = "Mietschulden bei Frau Qwertz"
    try:
        raise ValueError(request)
    except ValueError:
        library.exception("handler failed for %s", "Zyxwana")
        logging.getLogger("bot.example").exception("case %s failed", 7)
    written = guarded.getvalue()
    assert "Zyxwana" not in written and "SECRET" not in written
    assert "Mietschulden" in written  # our own line keeps its exception's message...
    assert written.count("Mietschulden") == 1  # ...the library's does not
    assert f"Received data was '{WITHHELD}'" in written
    assert "builtins.ValueError (message withheld)" in written
    assert "case 7 failed" in written and "sendMessage" not in written  # DEBUG: dropped


def test_a_person_in_our_log_lines_is_a_pseudonym(caplog):
    assert person(RESIDENT_ID) == person(RESIDENT_ID) != person(RESIDENT_ID + 1)
    assert str(RESIDENT_ID) not in person(RESIDENT_ID)
    assert person(None) == "p-none"


def test_an_exception_nothing_caught_is_logged_without_its_message(tmp_path):
    import subprocess
    import sys

    script = (
        "from bot.core.logs import configure_logging\n"
        "configure_logging('INFO')\n"
        "raise ValueError('Mietschulden bei Frau Qwertz')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 1
    assert "Qwertz" not in done.stderr and "ValueError (message withheld)" in done.stderr
