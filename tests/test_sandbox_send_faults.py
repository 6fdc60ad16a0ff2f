"""The sandbox's faults on the sending side, through the real python-telegram-bot Bot: the
per-group limit, 502 windows, answers lost after the request was carried out, and connections
reset before it was."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.core.retry import Outcome, classify
from bot.sandbox import BotApiSandbox


@pytest.fixture
async def sb() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def bot(sb: BotApiSandbox) -> AsyncIterator[Bot]:
    client = Bot(sb.token, base_url=sb.base_url, request=HTTPXRequest(read_timeout=0.5))
    await client.initialize()
    yield client
    await client.shutdown()


async def test_a_group_takes_20_messages_a_minute_then_429_with_the_wait(sb, bot):
    sb.limit_groups(per_minute=20)
    group = sb.add_group("Team", kind="supergroup")
    user = sb.add_user()
    user.started = True
    for i in range(20):
        await bot.send_message(group.id, f"m{i}")
    with pytest.raises(RetryAfter) as raised:
        await bot.copy_message(group.id, group.id, 1)
    wait = raised.value.retry_after
    seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else wait
    assert 58 <= seconds <= 60
    assert classify(raised.value) is Outcome.FLOOD
    # Private chats and reactions do not count against a group's minute.
    await bot.send_message(user.id, "privat")
    await bot.set_message_reaction(group.id, 1, "👍")
    assert len(sb.messages_to(group.id)) == 20


async def test_an_outage_answers_502_to_sends_while_get_updates_keeps_working(sb, bot):
    user = sb.add_user()
    user.started = True
    sb.start_outage()
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(user.id, "weg")
    assert "Bad Gateway" in raised.value.message
    assert classify(raised.value) is Outcome.RETRY  # Telegram answered: nothing was done
    await sb.send_message(user, "hallo")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["hallo"]
    sb.end_outage()
    await bot.send_message(user.id, "wieder da")
    assert [m.text for m in sb.messages_to(user.id)] == ["wieder da"]


@pytest.mark.parametrize(
    ("mode", "error"), [("timeout", TimedOut), ("reset", NetworkError)], ids=["timeout", "reset"]
)
async def test_a_lost_answer_leaves_the_bot_uncertain_though_the_message_arrived(
    sb, bot, mode, error
):
    user = sb.add_user()
    user.started = True
    sb.lose_next("sendMessage", mode=mode, hold=5.0)
    with pytest.raises(error) as raised:
        await bot.send_message(user.id, "angekommen?")
    assert classify(raised.value) is Outcome.UNCERTAIN
    assert [m.text for m in sb.messages_to(user.id)] == ["angekommen?"]  # carried out


async def test_a_reset_before_the_request_was_carried_out_looks_the_same_to_the_bot(sb, bot):
    user = sb.add_user()
    user.started = True
    sb.reset_next("sendMessage")
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(user.id, "nie gesendet")
    # The bot cannot tell this from a lost answer: uncertain as well, never resent by itself.
    assert classify(raised.value) is Outcome.UNCERTAIN
    assert sb.messages_to(user.id) == []
