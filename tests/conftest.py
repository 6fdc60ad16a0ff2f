"""Fixtures: a running sandbox, settings with a fresh database, and the real bot polling it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from telegram.ext import AIORateLimiter

from bot.app import SERVICES_KEY, build_application, running, settled
from bot.core.clock import FrozenClock
from bot.core.config import Settings, load_settings
from bot.core.logs import guarded_handler
from bot.sandbox import BotApiSandbox, SandboxUser, SentMessage
from bot.selfhelp import repository as selfhelp_repository
from bot.selfhelp.content import CONTENT_DIR, Content
from bot.services import Services
from bot.transport.courier import Limits

ADMIN_ID = 900_001


@pytest.fixture(autouse=True, scope="session")
def shared_immutable_setup() -> Iterator[None]:
    """What every start of the Application builds afresh and no test changes, built once per
    test process: about a third of a second of CPU per start, and the suite starts the bot
    some 900 times.
    - httpx's default SSL context (certifi's CA bundle parsed for each of the clients a start
      makes). The suite only talks plain HTTP to loopback, so the context is never used; an
      SSLContext may be shared by clients anyway.
    - The shipped self-help content (content/), which tests never edit in place (they copy it
      to a temporary folder first, and that is loaded every time). Keyed on the files' sizes
      and modification times all the same, so an edit would still be seen."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx._transports.default, "create_ssl_context", _shared_ssl_context)
        patch.setattr(selfhelp_repository, "load_content", _shipped_content_once)
        yield


_create_ssl_context = httpx._transports.default.create_ssl_context
_load_content = selfhelp_repository.load_content


@functools.cache
def _shared_ssl_context(verify=True, cert=None, trust_env=True):
    return _create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


def _shipped_content_once(folder: Path = CONTENT_DIR) -> Content:
    if Path(folder).resolve() != CONTENT_DIR.resolve():
        return _load_content(folder)
    stamp = tuple(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for path in sorted(CONTENT_DIR.rglob("*"))
        for stat in [path.stat()]
    )
    return _content_by_stamp(stamp)


@functools.cache
def _content_by_stamp(stamp: tuple) -> Content:
    return _load_content(CONTENT_DIR)


@pytest.fixture(autouse=True)
def logs_carry_no_content(monkeypatch) -> Iterator[io.StringIO]:
    """Every test runs with logging at DEBUG through the bot's own guarded handler
    (bot/core/logs.py); afterwards, nothing a person sent to any sandbox (texts, captions, first
    and last names, usernames) may be in what that handler wrote. So every flow of the suite
    checks that logs never carry content, at any level, python-telegram-bot's included."""
    received: list[tuple[str, dict]] = []
    deliver = BotApiSandbox._inject

    def recording(self, kind, payload):
        received.append((kind, payload))
        return deliver(self, kind, payload)

    monkeypatch.setattr(BotApiSandbox, "_inject", recording)
    written = io.StringIO()
    handler = guarded_handler(written)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield written
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    log = written.getvalue()
    leaked = sorted(
        text for text in personal_strings(received) if text in log and text not in vocabulary()
    )
    assert not leaked, f"the log carries what people sent: {leaked[:5]}"


@functools.cache
def vocabulary() -> str:
    """The bot's own words (catalogs, quick answers, organisation data): somebody who writes
    "Termin" is not quoted when an error message of the bot says "Unbekannter Termin"."""
    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("locales/*/LC_MESSAGES/messages.po"), *root.glob("content/**/*.toml")]
    files += root.glob("bot/data/*.toml")
    return "\n".join(path.read_text("utf-8") for path in files)


def personal_strings(updates: list[tuple[str, dict]]) -> set[str]:
    """What people wrote and what they are called, in the updates the sandbox delivered: long
    enough to mean something (short words like "Ja" appear in any log) and not commands."""
    found: set[str] = set()

    def person(user: object) -> None:
        if isinstance(user, dict) and not user.get("is_bot"):
            found.update(str(user.get(k) or "") for k in ("first_name", "last_name", "username"))

    for _kind, payload in updates:
        if not isinstance(payload, dict):
            continue
        person(payload.get("from"))
        for key in ("text", "caption"):
            found.add(str(payload.get(key) or ""))
        for key in ("new_chat_member", "old_chat_member"):
            if isinstance(payload.get(key), dict):
                person(payload[key].get("user"))
    return {
        text
        for text in (raw.strip() for raw in found)
        if len(text) >= 4 and not text.startswith("/") and any(c.isalpha() for c in text)
    }


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday in winter time, 10:00 in Erfurt.
    return FrozenClock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox() as sb:
        _SANDBOXES.append(sb)
        try:
            yield sb
        finally:
            _SANDBOXES.remove(sb)


@pytest.fixture
def settings(tmp_path: Path, sandbox: BotApiSandbox) -> Settings:
    base = load_settings(environ={"TELEGRAM_BOT_TOKEN": sandbox.token}, env_file=None)
    return replace(
        base,
        api_base_url=sandbox.base_url,
        api_file_url=sandbox.base_file_url,
        db_path=tmp_path / "thinka.sqlite3",
        admin_ids=frozenset({ADMIN_ID}),
    )


_SANDBOXES: list[BotApiSandbox] = []


async def agree(chat: Chat, notice: SentMessage) -> SentMessage:
    """Agree to the privacy notice and decline announcements; returns the main menu."""
    opt_in = await chat.press_data(notice, "consent:agree")
    return await chat.press_data(opt_in, "ev:optin:none")


# A failed update is tried again after these pauses (production: 1, 5 and 30 s): the same
# attempts and the same parking, in a test's time.
QUICK_RETRIES = (0.05, 0.1, 0.2)
# A test does a day's work in a second: the courier's budgets are raised like the rate
# limiter's (tests of the budgets themselves pass Telegram's, `Limits()`).
TEST_LIMITS = Limits(rate=10_000, group_per_minute=10_000, sender_burst=10_000)


def make_application(settings: Settings, clock: FrozenClock, limits: Limits = TEST_LIMITS):
    """The production Application, with two differences: a test does a day's work in a second,
    so it may exceed Telegram's 30 messages a second and 20 a minute per group (the same
    AIORateLimiter and courier, only with higher rates; the sandbox's own 429s still apply), and
    a failed update is retried after QUICK_RETRIES instead of seconds."""
    limiter = AIORateLimiter(
        max_retries=3, overall_max_rate=10_000, group_max_rate=10_000, group_time_period=60
    )
    application = build_application(settings, clock=clock, rate_limiter=limiter, limits=limits)
    application.update_processor.retry_delays = QUICK_RETRIES

    for sandbox in _SANDBOXES:
        sandbox.idle_checks.append(functools.partial(settled, application))
    return application


@pytest.fixture
async def bot(settings: Settings, clock: FrozenClock) -> AsyncIterator[Services]:
    """The real Application, polling the sandbox over HTTP; yields its services."""
    application = make_application(settings, clock)
    async with running(application):
        yield application.bot_data[SERVICES_KEY]


async def eventually(check, within: float = 10.0):
    """Await `check()` until it returns something truthy (for state the sandbox cannot see,
    e.g. a row while python-telegram-bot sleeps between its own retries)."""
    async with asyncio.timeout(within):
        # Polling on purpose: the state is a database row, there is no event to wait on.
        while not (result := await check()):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return result


class Chat:
    """A person talking to the bot through the sandbox, as a test would describe it."""

    def __init__(self, sandbox: BotApiSandbox, user: SandboxUser) -> None:
        self.sandbox = sandbox
        self.user = user

    @property
    def id(self) -> int:
        return self.user.id

    def seen(self) -> int:
        return len(self.sandbox.messages_to(self.user.id))

    async def send(self, text: str) -> SentMessage:
        """Send a text; return the bot's next new message to this chat."""
        before = self.seen()
        await self.sandbox.send_message(self.user, text)
        return await self.sandbox.wait_for_message(self.user.id, after=before)

    async def press(self, message: SentMessage, label: str) -> SentMessage:
        """Press the button labelled `label`; return the message afterwards (edited or new)."""
        return await self.press_data(message, message.callback_data(label))

    async def press_data(self, message: SentMessage, data: str) -> SentMessage:
        """Press the button carrying callback `data`; return the message afterwards."""
        before = self.seen()
        edits = message.edits
        query = await self.sandbox.press_button(self.user, message, data)

        async def answered():
            # The bot answers every press, right before it edits or sends: wait for that, not
            # only for a quiet moment, which a busy machine can fake.
            return any(
                a.get("callback_query_id") == query["id"] for a in self.sandbox.callback_answers
            )

        await eventually(answered)
        await self.sandbox.wait_for_idle()

        async def changed():
            current = [
                m
                for m in self.sandbox.messages_to(message.chat_id)
                if m.message_id == message.message_id
            ]
            return self.seen() > before or (current and current[0].edits > edits)

        # Most presses edit the message or send a new one; give a slow machine time for that
        # (a press that changes nothing simply waits out this short bound).
        with contextlib.suppress(TimeoutError):
            await eventually(changed, within=2.0)
        messages = self.sandbox.messages_to(self.user.id)
        if len(messages) > before:
            return messages[-1]
        # The pressed message may be in another chat (a staff group): look for it there.
        current = next(
            m
            for m in self.sandbox.messages_to(message.chat_id)
            if m.message_id == message.message_id
        )
        assert current.edits > edits or current.text == message.text
        return current

    async def ask(self, text: str) -> SentMessage:
        """Write a request's text; when quick answers are offered first, say "I still want to
        ask". Returns the confirmation (or whatever came instead)."""
        return await self.past_suggestions(await self.send(text))

    async def past_suggestions(self, reply: SentMessage) -> SentMessage:
        """When `reply` offers quick answers, press "I still want to ask"; the next message."""
        data = [b.get("callback_data") for row in reply.buttons for b in row]
        if "sh:a" in data:
            return await self.press_data(reply, "sh:a")
        return reply

    def last(self) -> SentMessage:
        return self.sandbox.messages_to(self.user.id)[-1]


@pytest.fixture
def consented(bot: Services, chat_as):
    """A resident who has started the bot in `language` and agreed; returns (chat, translator)."""

    async def make(language: str, **kwargs):
        t = bot.i18n.translator(language)
        chat = chat_as(language, **kwargs)
        notice = await chat.send("/start")
        await agree(chat, notice)
        return chat, t

    return make


@pytest.fixture
def chat_as(sandbox: BotApiSandbox):
    def make(language_code: str | None = "de", first_name: str = "Test", user_id=None) -> Chat:
        return Chat(
            sandbox,
            sandbox.add_user(first_name=first_name, language_code=language_code, user_id=user_id),
        )

    return make
