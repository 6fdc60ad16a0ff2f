"""Property-based: random updates, as any Telegram client could send them, through the real
Application and the sandbox. Whatever arrives, no exception reaches the error handler, nothing the
bot sends looks like a traceback, another group gets one notice at most before the bot leaves it,
a channel gets silence, and a private text or button press always gets an answer.

Hypothesis draws the updates (derandomised: the same ones on every run, so CI is deterministic);
one running bot then takes the whole batch, because starting the Application per example would
cost a second each. The price: no shrinking. A failure names the update by its JSON; send it
alone (as test_found_crashes_stay_fixed does) to get the minimal input, and add it there.
"""

from __future__ import annotations

import json
import logging
import random
import re
import traceback
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, TypeHandler

from bot.app import SERVICES_KEY, running
from bot.cases.cards import CASE_PREFIX
from bot.sandbox import BotApiSandbox, SandboxEvent, SandboxUser
from bot.staff.directory import StaffCheckUnavailable
from bot.text.german_dates import parse_german_datetime
from bot.transport import polling
from handlers.resident import appointments, events
from handlers.shared import keyboards, user_input
from handlers.staff import appointments as appointment_staff
from handlers.staff import events as event_staff
from handlers.staff import queue
from tests.conftest import ADMIN_ID, Chat, agree, eventually, make_application

STAFF_ID = 700_101  # a member of the staff group, not an admin

# ---------------------------------------------------------------------------------- text

# Every code point but surrogates (they cannot travel in UTF-8 JSON).
ANY_CHAR = st.characters(codec="utf-8")
RTL = st.characters(min_codepoint=0x0590, max_codepoint=0x08FF)  # Hebrew, Arabic, Syriac …
ASTRAL = st.characters(min_codepoint=0x10000, codec="utf-8")  # emoji, historic scripts
INVISIBLE = st.sampled_from(
    "\u00ad\u034f\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\ufe0f"
)
# What breaks HTML replies, %-formatting and str.format if user text ever gets into them.
MARKUP = st.sampled_from(
    ["<", ">", "&", '"', "'", "<b>", "</i>", "&amp;", "&#0;", "<a href='x'>", "%s", "%(day)s",
     "%", "{}", "{0}", "\\", "\n", "\t", "\r\n", "\x00", "/", "@", "#", "`"]
)  # fmt: skip
WORDS = st.sampled_from(
    ["Hallo", "Hilfe", "Notfall", "ich will nicht mehr leben", "Suizid", "Termin",
     "Mahnung vom Jobcenter", "مرحبا، عندي سؤال", "Добрый день", "Добрий день", "שלום",
     "👨‍👩‍👧‍👦", "🏳️‍🌈", "1.12.", "morgen 10 Uhr", "01.12.2026 09:00", "31.02.2026 25:61",
     "Berliner Platz"]
)  # fmt: skip
PIECE = st.one_of(
    st.text(ANY_CHAR, max_size=30),
    st.lists(st.one_of(RTL, ASTRAL, INVISIBLE, MARKUP), max_size=30).map("".join),
    WORDS,
)


def utf16_fit(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 code units, the unit of Telegram's length limits."""
    return text.encode("utf-16-le")[: 2 * limit].decode("utf-16-le", errors="ignore")


# Telegram delivers no empty or blank text (a lone zero-width space is not blank): every text
# has at least one visible character somewhere.
VISIBLE = st.characters(codec="utf-8", exclude_categories=("Zs", "Zl", "Zp", "Cc"))
SHORT_TEXT = st.builds(
    lambda before, visible, after: before + visible + after,
    st.lists(PIECE, max_size=3).map("".join),
    st.one_of(VISIBLE, WORDS),
    st.lists(PIECE, max_size=3).map("".join),
)
LONG_TEXT = st.tuples(SHORT_TEXT, st.integers(1000, 4096)).map(
    lambda t: utf16_fit(t[0] * (t[1] // len(t[0]) + 1), t[1])
)
MESSAGE_TEXT = st.one_of(SHORT_TEXT, SHORT_TEXT, SHORT_TEXT, LONG_TEXT).filter(str.strip)
CAPTION = SHORT_TEXT.map(lambda text: utf16_fit(text, 1024)).filter(str.strip)
NAME = SHORT_TEXT.map(lambda text: utf16_fit(text, 64)).filter(str.strip)

# Numbers as a forged button or a typed argument may carry them: str.isdigit() accepts "²" and
# "①", which int() refuses; ids beyond SQLite's 64-bit integers; digits of other scripts.
NUMBERISH = st.one_of(
    st.sampled_from(["²", "³", "①", "٣", "١٢", "１", "𝟙", "0", "1", "2", "9", "-1", "007"]),
    st.integers(2**63, 10**30).map(str),
    st.integers().map(str),
)

# ---------------------------------------------------------------------------------- commands

UNKNOWN_COMMANDS = ["frobnicate", "START", "Start", "start_", "s", "x" * 32, "t1", "1"]
# Commands for staff (they check staff status themselves; anybody else gets "unknown command").
STAFF_COMMANDS = {"closed", "audit", "queue", "stats", "newevent", "broadcast", "cancel", "events"}
# Commands of a case topic in the staff group.
TOPIC_COMMANDS = ["t", "take", "close", "reopen", "note"]
# Arguments staff and residents might type, or a deep link might carry.
ODD_ARGUMENTS = st.one_of(
    SHORT_TEXT,
    NUMBERISH,
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),  # a deep-link payload
    st.dates().map(date.isoformat),
    st.builds(
        "{} {}".format,
        st.dates().map(date.isoformat),
        st.sampled_from(["rieth", "berliner_platz", "*", "nowhere", "a b", "RIETH"]),
    ),
    st.sampled_from(
        ["2026-12-24", "2026-02-30", "9999-12-31", "0001-01-01", "2026-W53-1", "20261224",
         "24.12.2026", "２０２６-１２-２４", "closing", "CLOSING", "received extra",
         "debt_counselling"]
    ),
)  # fmt: skip
MENTIONS = ["", "", "@thinka_sandbox_bot", "@THINKA_SANDBOX_BOT", "@other_bot", "@"]
COMMAND_SEPARATORS = [" ", "  ", "\n", "\t", "\u00a0"]


def command_text(commands: list[str]) -> st.SearchStrategy[str]:
    arguments = st.one_of(
        st.just(""),
        st.builds(lambda sep, arg: sep + arg, st.sampled_from(COMMAND_SEPARATORS), ODD_ARGUMENTS),
    )
    return st.builds(
        lambda name, mention, args: utf16_fit(f"/{name}{mention}{args}", 4096),
        st.sampled_from(commands),
        st.sampled_from(MENTIONS),
        arguments,
    )


COMMAND = re.compile(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", re.ASCII)


def text_content(text: str, with_entities: bool = True) -> dict[str, Any]:
    """A text as Telegram delivers it: a leading /command carries its bot_command entity
    (unless this example leaves that optional field out)."""
    content: dict[str, Any] = {"text": text}
    match = COMMAND.match(text)
    if match and with_entities:
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": match.end()}]
    return content


# ---------------------------------------------------------------------------------- buttons

# The prefixes the keyboards use, each with the actions its handler knows.
RESIDENT_CALLBACKS = {
    keyboards.LANGUAGE_PREFIX: ["de", "ar", "ru", "uk", "en", "xx", "", "ar:", "chooser:"],
    "menu": [
        "", ":ask", ":info", ":appointment", ":events", ":contact", ":language", ":privacy",
        ":help", ":contact:",
    ],
    "sh:": ["t:", "o:", "h:", "a", "a:", "b:", "s", "o:debt-mahnung", "h:debt-mahnung"],
    "consent:": ["agree", "disagree", "agree:", "show", "show:"],
    "req:": ["topic:", "district:", "new", "lang:", "mine"],
    "privacy:": ["delete", "delete:no", ""],
    appointments.PREFIX: [
        "start", "t:", "l:", "d:", "s:", "note", "send", "back:", "list", "cancel:",
        "cancelyes:", "move:", "accept:", "other:",
    ],
    events.PREFIX: ["optin:", "toggle:", "rsvp:"],
}  # fmt: skip
STAFF_CALLBACKS = {
    event_staff.NEW: ["d:", "nophoto", "tr:", "pv:", "publish", "schedule", "discard"],
    event_staff.MANAGE: ["time:", "place:", "tr:", "trl:", "cancel:", "cancelyes:"],
    queue.QUEUE_PREFIX: ["list", "open:", "read:", "reply:", "take:", "close:", "reopen:"],
    CASE_PREFIX: ["take:", "close:", "reopen:", "templates:", "send:1:", "send:"],
    appointment_staff.PREFIX: ["confirm:", "decline:", "propose:", "pd:1:", "ps:1:", "done:"],
}  # fmt: skip
CALLBACK_VALUES = st.one_of(
    NUMBERISH,
    NUMBERISH,
    st.sampled_from(
        ["", "all", "none", "other", "debt", "rieth", "berliner_platz", "de", "ar", "20261224",
         "202612241000", "20260230", "99991231", "00010101", "1:closing", "1:", "::"]
    ),
    st.text(ANY_CHAR, max_size=12),
)  # fmt: skip


def fit_callback_data(data: str) -> str:
    """Telegram carries 1-64 bytes of callback data."""
    return data.encode()[:64].decode(errors="ignore") or "x"


def callback_data(prefixes: dict[str, list[str]]) -> st.SearchStrategy[str]:
    # A known prefix and action with an odd value: the paths the handlers actually parse.
    structured = (
        st.sampled_from(sorted(prefixes))
        .flatmap(
            lambda prefix: st.tuples(
                st.just(prefix), st.sampled_from(prefixes[prefix]), CALLBACK_VALUES
            )
        )
        .map(lambda parts: fit_callback_data("".join(parts)))
    )
    return st.one_of(
        structured,
        structured,
        structured,
        # Arbitrary bytes from a modified client, as the Bot API would pass them on.
        st.binary(min_size=1, max_size=64).map(lambda b: b.decode("utf-8", errors="replace")),
        st.text(ANY_CHAR, min_size=1, max_size=64).map(fit_callback_data),
    )


# ---------------------------------------------------------------------------------- messages

FILE_ID = st.from_regex(r"[A-Za-z0-9_-]{16,40}", fullmatch=True)


def _file(file_id: str, **extra: Any) -> dict[str, Any]:
    return {"file_id": "BQACAgIAAx" + file_id, "file_unique_id": "AgAD" + file_id[:8], **extra}


def _with_caption(content: dict[str, Any], caption: str | None) -> dict[str, Any]:
    return content if caption is None else {**content, "caption": caption}


LATITUDE = st.floats(-90, 90, allow_nan=False)
LONGITUDE = st.floats(-180, 180, allow_nan=False)
# Messages without text: what a resident may send instead of words.
MEDIA = st.one_of(
    st.builds(
        lambda f, emoji: {
            "sticker": _file(
                f, type="regular", width=512, height=512, is_animated=False, is_video=False,
                **({"emoji": emoji} if emoji else {}),
            )
        },
        FILE_ID,
        st.sampled_from(["", "😀", "🏳️‍🌈"]),
    ),
    st.builds(lambda lat, lon: {"location": {"latitude": lat, "longitude": lon}}, LATITUDE,
              LONGITUDE),
    st.builds(
        lambda phone, name, user_id: {
            "contact": {"phone_number": phone, "first_name": name,
                        **({"user_id": user_id} if user_id else {})}
        },
        st.from_regex(r"\+?[0-9 ()-]{3,20}", fullmatch=True) | SHORT_TEXT,
        NAME,
        st.none() | st.integers(1, 2**40),
    ),
    st.builds(
        lambda lat, lon, title, address: {
            "location": {"latitude": lat, "longitude": lon},
            "venue": {"location": {"latitude": lat, "longitude": lon}, "title": title,
                      "address": address},
        },
        LATITUDE, LONGITUDE, NAME, NAME,
    ),
    st.builds(lambda emoji, value: {"dice": {"emoji": emoji, "value": value}},
              st.sampled_from(["🎲", "🎯", "🏀"]), st.integers(1, 6)),
    st.builds(
        lambda f, caption: _with_caption(
            {"photo": [_file(f + "s", width=90, height=90), _file(f, width=1280, height=960)]},
            caption,
        ),
        FILE_ID, st.none() | CAPTION,
    ),
    st.builds(
        lambda f, caption, name: _with_caption(
            {"document": _file(f, **({"file_name": name} if name else {}))}, caption
        ),
        FILE_ID, st.none() | CAPTION, st.none() | NAME,
    ),
    st.builds(lambda f: {"voice": _file(f, duration=3)}, FILE_ID),
    st.builds(lambda f: {"video_note": _file(f, length=240, duration=2)}, FILE_ID),
)  # fmt: skip
LANGUAGE_CODE = st.one_of(
    st.sampled_from(
        ["de", "ar", "ru", "uk", "en", "fa", "tr", "de-AT", "pt-br", "zh-hans", "ar-SA", "DE",
         "xx", "und", ""]
    ),
    st.text(ANY_CHAR, max_size=8),
)  # fmt: skip
# The optional fields of a sender: any of them may be missing.
PROFILE = st.fixed_dictionaries(
    {"first_name": NAME},
    optional={
        "last_name": NAME,
        "username": st.from_regex(r"[A-Za-z][A-Za-z0-9_]{4,31}", fullmatch=True),
        "language_code": LANGUAGE_CODE,
        "is_premium": st.just(True),
    },
)
# Optional fields of a message, present or not.
MESSAGE_EXTRAS = st.fixed_dictionaries(
    {},
    optional={
        "forward_origin": st.builds(
            lambda name: {"type": "hidden_user", "sender_user_name": name, "date": 1_700_000_000},
            NAME,
        ),
        "via_bot": st.just({"id": 4242, "is_bot": True, "first_name": "GIF", "username": "gif"}),
        "has_protected_content": st.just(True),
        "link_preview_options": st.just({"is_disabled": True}),
        "reply_to_message": st.just(True),  # filled in with an earlier message of the chat
    },
)
GROUP_SERVICE = st.one_of(
    st.just({"group_chat_created": True}),
    st.builds(lambda title: {"new_chat_title": title}, NAME),
    st.just({"new_chat_members": "sender"}),
    st.just({"left_chat_member": "sender"}),
)

# ---------------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Plan:
    """One update to send, before ids and chats are filled in."""

    kind: str  # message, edited_message, callback_query, my_chat_member, channel_post, …
    sender: str  # resident, newcomer, stranger, admin, group, channel (staff group: staff, …)
    content: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    pick: int = 0  # which earlier message is pressed or edited (0: the newest)
    where: str = ""  # staff group: "case" topic, "other" topic or "general"


def draw(strategy: st.SearchStrategy[Any], how_many: int) -> list[Any]:
    """`how_many` examples of `strategy`, the same ones on every run."""
    drawn: list[Any] = []

    @hypothesis_settings(
        max_examples=how_many,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    collect()
    return drawn


def mixed(strategies: dict[str, st.SearchStrategy[Plan]], mix: dict[str, int], factor: float):
    """`mix[kind] × factor` plans of each kind (at least one), interleaved in a fixed order."""
    plans = [
        plan
        for kind, n in mix.items()
        for plan in draw(strategies[kind], max(1, round(n * factor)))
    ]
    random.Random(7).shuffle(plans)
    return plans


PICK = st.one_of(st.just(0), st.just(0), st.integers(0, 50))
PRIVATE_SENDERS = ["resident", "resident", "newcomer", "stranger", "admin"]


def private_plans(commands: list[str]) -> dict[str, st.SearchStrategy[Plan]]:
    """The kinds of update in private chats, groups and channels, each its own strategy."""
    with_entities = st.sampled_from([True, True, True, False])
    text = st.builds(text_content, MESSAGE_TEXT, with_entities)
    command = st.builds(text_content, command_text(commands + UNKNOWN_COMMANDS), with_entities)
    staff_command = st.builds(
        text_content, command_text([c for c in commands if c in STAFF_COMMANDS]), with_entities
    )

    def message(sender: st.SearchStrategy[str], content: st.SearchStrategy[dict[str, Any]]):
        return st.builds(
            Plan,
            kind=st.just("message"),
            sender=sender,
            content=content,
            profile=PROFILE,
            extras=MESSAGE_EXTRAS,
        )

    def press(sender: st.SearchStrategy[str], data: st.SearchStrategy[str]):
        return st.builds(
            Plan,
            kind=st.just("callback_query"),
            sender=sender,
            content=st.builds(lambda data: {"data": data}, data),
            pick=PICK,
        )

    private = st.sampled_from(PRIVATE_SENDERS)
    return {
        "private text": message(private, text),
        "private command": message(private, command),
        "staff command": message(st.just("admin"), staff_command),
        "private media": message(private, MEDIA),
        "group message": message(st.just("group"), st.one_of(text, command, MEDIA)),
        "group service message": st.builds(
            Plan,
            kind=st.just("message"),
            sender=st.just("group"),
            content=GROUP_SERVICE,
            profile=PROFILE,
        ),
        "edit": st.builds(
            Plan,
            kind=st.just("edited_message"),
            sender=st.sampled_from([*PRIVATE_SENDERS, "group"]),
            content=st.one_of(text, command, MEDIA.filter(lambda c: "photo" in c)),
            profile=PROFILE,
        ),
        "button press": press(
            st.sampled_from(["resident", "newcomer", "admin"]),
            callback_data(RESIDENT_CALLBACKS | STAFF_CALLBACKS),
        ),
        "resident button press": press(st.just("resident"), callback_data(RESIDENT_CALLBACKS)),
        "staff button press": press(st.just("admin"), callback_data(STAFF_CALLBACKS)),
        "block or unblock": st.builds(
            Plan,
            kind=st.just("my_chat_member"),
            sender=st.sampled_from([*PRIVATE_SENDERS, "group"]),
            content=st.builds(
                lambda status: {"status": status}, st.sampled_from(["kicked", "member"])
            ),
            profile=PROFILE,
        ),
        "channel post": st.builds(
            Plan,
            kind=st.sampled_from(["channel_post", "edited_channel_post"]),
            sender=st.just("channel"),
            content=st.one_of(text, command),
        ),
    }


# How many of each kind one run sends (times a factor for the slow run).
PRIVATE_MIX = {
    "private text": 60,
    "private command": 60,
    "staff command": 40,
    "private media": 20,
    "group message": 12,
    "group service message": 4,
    "edit": 20,
    "button press": 40,
    "resident button press": 60,
    "staff button press": 60,
    "block or unblock": 8,
    "channel post": 4,
}


def staff_group_plans(commands: list[str]) -> dict[str, st.SearchStrategy[Plan]]:
    """What staff do in the staff group, and what the resident of the case sends meanwhile."""
    staff = st.sampled_from(["admin", "staff"])
    where = st.sampled_from(["case", "case", "case", "other", "general"])
    topic_command = st.builds(
        lambda name, mention, args: f"/{name}{mention}{args}",
        st.sampled_from(TOPIC_COMMANDS + sorted(STAFF_COMMANDS) + ["start", "menu"]),
        st.sampled_from(MENTIONS),
        st.one_of(st.just(""), st.builds(" {}".format, ODD_ARGUMENTS)),
    )

    def in_group(content: st.SearchStrategy[str]) -> st.SearchStrategy[Plan]:
        return st.builds(
            Plan,
            kind=st.just("message"),
            sender=staff,
            content=content.map(text_content),
            where=where,
        )

    return {
        "staff text": in_group(MESSAGE_TEXT),
        "staff command": in_group(topic_command),
        "staff media": st.builds(
            Plan,
            kind=st.just("message"),
            sender=staff,
            content=st.sampled_from([{"photo": True}, {"sticker": True}, {"document": True}]),
            where=where,
        ),
        "staff edit": st.builds(
            Plan,
            kind=st.just("edited_message"),
            sender=staff,
            content=st.one_of(MESSAGE_TEXT, topic_command).map(text_content),
            pick=PICK,
        ),
        "card press": st.builds(
            Plan,
            kind=st.just("callback_query"),
            sender=staff,
            content=st.builds(lambda data: {"data": data}, callback_data(STAFF_CALLBACKS)),
            pick=PICK,
        ),
        "resident text": st.builds(
            Plan,
            kind=st.just("message"),
            sender=st.just("resident"),
            content=MESSAGE_TEXT.map(text_content),
        ),
        "resident press": st.builds(
            Plan,
            kind=st.just("callback_query"),
            sender=st.just("resident"),
            content=st.builds(lambda data: {"data": data}, callback_data(RESIDENT_CALLBACKS)),
            pick=PICK,
        ),
    }


STAFF_GROUP_MIX = {
    "staff text": 30,
    "staff command": 50,
    "staff media": 6,
    "staff edit": 10,
    "card press": 30,
    "resident text": 20,
    "resident press": 14,
}

# ---------------------------------------------------------------------------------- the bot


@dataclass
class Recorder:
    """What the bot did for which update. Updates of one chat are handled one after another
    (bot/transport/update_processor.py), so what the sandbox sees for a chat while update N of that
    chat
    is handled belongs to N."""

    current: dict[int | None, int] = field(default_factory=dict)  # chat id -> update id
    by_message: dict[tuple[int, int], int] = field(default_factory=dict)  # -> update id
    by_query: dict[str, int] = field(default_factory=dict)  # callback query id -> update id
    errors: list[tuple[dict[str, Any], BaseException]] = field(default_factory=list)
    events: dict[int | None, list[SandboxEvent]] = field(default_factory=lambda: defaultdict(list))
    texts: list[str] = field(default_factory=list)

    async def mark(self, update: Update, context: Any) -> None:
        chat, user = update.effective_chat, update.effective_user
        key = chat.id if chat else user.id if user else None
        self.current[key] = update.update_id
        if update.callback_query is not None:
            self.by_query[update.callback_query.id] = update.update_id
        elif update.message is not None:  # not edits: they carry the id of the original
            self.by_message[update.message.chat_id, update.message.message_id] = update.update_id

    async def error(self, update: object, context: Any) -> None:
        self.errors.append((update.to_dict() if isinstance(update, Update) else {}, context.error))

    def on_event(self, event: SandboxEvent) -> None:
        self.events[self.current.get(event.chat_id)].append(event)
        if event.message is not None:
            self.texts.extend(filter(None, (event.message.text, event.message.caption)))
        if event.kind == "callback_answer" and event.params.get("text"):
            self.texts.append(event.params["text"])


async def _run_recorded(settings, clock, sandbox) -> AsyncIterator[tuple[Application, Recorder]]:
    """The real Application with a recorder: one handler in front of all others notes the
    update, one more error handler notes every exception."""
    application = make_application(settings, clock)
    recorder = Recorder()
    application.add_handler(TypeHandler(Update, recorder.mark), group=-10)
    # First among the error handlers: the bot's own (handlers/gates/errors.py) ends the update's
    # attempt, and python-telegram-bot then calls no further error handler.
    others = dict(application.error_handlers)
    application.error_handlers.clear()
    application.add_error_handler(recorder.error)
    application.error_handlers.update(others)
    unsubscribe = sandbox.subscribe(recorder.on_event)
    try:
        async with running(application):
            yield application, recorder
    finally:
        unsubscribe()


@pytest.fixture
async def fuzzed(settings, clock, sandbox) -> AsyncIterator[tuple[Application, Recorder]]:
    async for running_bot in _run_recorded(settings, clock, sandbox):
        yield running_bot


@pytest.fixture
def staff_group(sandbox: BotApiSandbox):
    sandbox.add_user(first_name="Anna", user_id=ADMIN_ID)
    sandbox.add_user(first_name="Boris", user_id=STAFF_ID)
    return sandbox.add_group(
        title="Th.INKA Team",
        kind="supergroup",
        is_forum=True,
        members={ADMIN_ID: "administrator", STAFF_ID: "member"},
    )


@pytest.fixture
async def fuzzed_with_staff_group(
    settings, clock, sandbox, staff_group
) -> AsyncIterator[tuple[Application, Recorder]]:
    with_group = replace(settings, staff_chat_id=staff_group.id)
    async for running_bot in _run_recorded(with_group, clock, sandbox):
        yield running_bot


def registered_commands(application: Application) -> list[str]:
    return sorted(
        {
            command
            for handlers in application.handlers.values()
            for handler in handlers
            if isinstance(handler, CommandHandler)
            for command in handler.commands
        }
    )


@dataclass
class Sent:
    """An update sent to the bot and what it should get."""

    plan: Plan
    payload: dict[str, Any]
    chat_id: int
    wants_reply: bool = False  # a private text: some message to that chat (or a 👍 on it)
    query_id: str | None = None  # a button press: an answered callback query


class PrivateWorld:
    """The people and chats the updates come from; fills a Plan in and sends it raw."""

    GROUP: ClassVar = {"id": -1001234567890, "type": "supergroup", "title": "Hausgemeinschaft"}
    CHANNEL: ClassVar = {"id": -1009876543210, "type": "channel", "title": "Nachrichten"}

    def __init__(self, sandbox: BotApiSandbox, people: dict[str, SandboxUser]) -> None:
        self.sandbox = sandbox
        self.people = people
        self.message_ids = count(100_000)
        self.group_users = count(600_000_001)
        self.earlier: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def _user(self, plan: Plan) -> SandboxUser:
        if plan.sender == "stranger":
            user = self.sandbox.add_user(first_name="Fremd", language_code=None)
            # Somebody who writes has started the chat; inject() leaves that to the caller.
            user.started = True
            return user
        return self.people[plan.sender]

    def _sender(self, plan: Plan) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The chat and the "from" of an update by `plan.sender`."""
        if plan.sender == "channel":
            return dict(self.CHANNEL), None
        if plan.sender == "group":
            sender = {"id": next(self.group_users), "is_bot": False, **plan.profile}
            return dict(self.GROUP), sender
        user = self._user(plan)
        chat = {"id": user.id, "type": "private", "first_name": plan.profile["first_name"]}
        if "username" in plan.profile:
            chat["username"] = plan.profile["username"]
        return chat, {"id": user.id, "is_bot": False, **plan.profile}

    def _message(self, plan: Plan, chat: dict[str, Any], sender: dict[str, Any] | None):
        message: dict[str, Any] = {
            "message_id": next(self.message_ids),
            "date": 1_790_000_000,
            "chat": chat,
        }
        if sender is not None:
            message["from"] = sender
        if plan.sender == "channel":
            message["sender_chat"] = chat
        for key, value in plan.content.items():
            if value == "sender":  # a service message about the sender joining or leaving
                value = [sender] if key == "new_chat_members" else sender
            message[key] = value
        extras = dict(plan.extras)
        earlier = self.earlier[chat["id"]]
        if extras.pop("reply_to_message", False) and earlier:
            message["reply_to_message"] = earlier[-1]
        message.update(extras)
        if plan.kind.startswith("edited"):
            # An edit of an earlier message of this chat (or of one the bot never saw).
            if earlier:
                message["message_id"] = earlier[-1 - plan.pick % len(earlier)]["message_id"]
            message["edit_date"] = 1_790_000_100
        else:
            earlier.append({k: v for k, v in message.items() if k != "reply_to_message"})
        return message

    async def send(self, plan: Plan) -> Sent | None:
        if plan.kind == "callback_query":
            return await self._press(plan)
        chat, sender = self._sender(plan)
        if plan.kind == "my_chat_member":
            payload = _membership(chat, sender, self.sandbox.bot_user, plan.content["status"])
        else:
            payload = self._message(plan, chat, sender)
        update_id = self.sandbox.inject(plan.kind, payload)
        assert update_id is not None, f"{plan.kind} updates are not delivered"
        private = chat["type"] == "private"
        wants_reply = private and plan.kind == "message" and "text" in payload
        return Sent(plan, payload, chat["id"], wants_reply=wants_reply)

    async def _press(self, plan: Plan) -> Sent | None:
        """A button press on one of the bot's messages in that chat (stale ones included),
        with whatever data a modified client puts there."""
        user = self.people[plan.sender]
        return await press(self.sandbox, user, self.sandbox.messages_to(user.id), plan)


async def press(sandbox: BotApiSandbox, user: SandboxUser, messages, plan: Plan) -> Sent | None:
    if not messages:
        return None
    pressed = messages[-1 - plan.pick % len(messages)]
    query = await sandbox.press_button(user, pressed, plan.content["data"], forge=True)
    return Sent(plan, query, pressed.chat_id, query_id=query["id"])


def _membership(chat, sender, bot, status: str) -> dict[str, Any]:
    """my_chat_member: the user blocked (kicked) or unblocked the bot; in a group, added or
    removed it."""
    if chat["type"] == "private":
        old, new = ("member", "kicked") if status == "kicked" else ("kicked", "member")
    else:
        old, new = ("member", "left") if status == "kicked" else ("left", "member")

    def member(status: str) -> dict[str, Any]:
        return {"status": status, "user": bot, **({"until_date": 0} if status == "kicked" else {})}

    return {
        "chat": chat,
        "from": sender,
        "date": 1_790_000_000,
        "old_chat_member": member(old),
        "new_chat_member": member(new),
    }


class StaffGroupWorld:
    """The staff group with one case topic, a topic that is no case, and the resident; sends
    through the sandbox's own user methods, so every message exists for replies and copies."""

    def __init__(self, sandbox, group, people, case_thread: int, other_thread: int) -> None:
        self.sandbox = sandbox
        self.group = group
        self.people = people
        self.threads = {"case": case_thread, "other": other_thread, "general": None}
        self.sent_by: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def _thread(self, where: str) -> int | None:
        thread = self.threads[where]
        topic = self.sandbox.topics(self.group).get(thread) if thread else None
        return None if topic is not None and topic.get("deleted") else thread

    async def send(self, plan: Plan) -> Sent | None:
        user = self.people[plan.sender]
        if plan.kind == "callback_query":
            chat_id = user.id if plan.sender == "resident" else self.group.id
            return await press(self.sandbox, user, self.sandbox.messages_to(chat_id), plan)
        if plan.kind == "edited_message":
            mine = self.sent_by[user.id]
            if not mine:
                return None
            message = mine[-1 - plan.pick % len(mine)]
            await self.sandbox.edit_message(user, message, plan.content["text"])
            return None
        if plan.sender == "resident":
            raw = await self.sandbox.send_message(user, plan.content["text"])
            return Sent(plan, raw, user.id, wants_reply=True)
        thread = self._thread(plan.where)
        kind = next(iter(plan.content))
        if kind == "text":
            raw = await self.sandbox.send_message(
                user, plan.content["text"], self.group, message_thread_id=thread
            )
            self.sent_by[user.id].append(raw)
        else:
            send = getattr(self.sandbox, f"send_{kind}")
            raw = await send(user, chat=self.group, message_thread_id=thread)
        return Sent(plan, raw, self.group.id)


# ---------------------------------------------------------------------------------- checks

# What a Python exception looks like when it leaks into a text.
LEAKED_EXCEPTION = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]*\", line \d+|\b[A-Z]\w*(Error|Exception): "
    r"|invalid literal for int\(\)|object has no attribute|NoneType"
)


def _short(data: Any, limit: int = 400) -> str:
    text = json.dumps(data, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
    frame = ours[-1]
    return f"{'/'.join(frame.filename.rsplit('/', 2)[-2:])}:{frame.lineno} ({frame.name})"


def problems(
    sandbox: BotApiSandbox,
    recorder: Recorder,
    sent: list[Sent],
    caplog,
    silent_chats=(),
    left_groups=(),
) -> list[str]:
    """Everything that breaks the properties, one line each."""
    found = []
    crashed_queries = set()  # the crash is the problem, not the missing answer that follows
    for update, error in recorder.errors:
        crashed_queries.add((update.get("callback_query") or {}).get("id"))
        found.append(
            f"unhandled {type(error).__name__}: {error} at {_where(error)} "
            f"in update {_short(update)}"
        )
    # handlers.gates.errors logs what the recorder has seen (reported above, with the update).
    found += [
        f"logged {record.levelname} by {record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.levelno >= logging.ERROR and record.name != "handlers.gates.errors"
    ]
    found += [
        f"traceback-like text sent: {_short(text)}"
        for text in recorder.texts
        if LEAKED_EXCEPTION.search(text)
    ]
    found += [
        f"sent into a group that should get silence: {_short(m.text)}"
        for m in sandbox.sent
        if m.chat_id in silent_chats
    ]
    for group in left_groups:
        # A group that is not the staff group: the private-chat notice once, then the bot left.
        told = [m.text for m in sandbox.sent if m.chat_id == group]
        if len(told) > 1 or any(not text.startswith("Hallo!") for text in told):
            found.append(f"group {group} got {len(told)} messages: {_short(told)}")
        if told and sandbox.chats[group].bot_status != "left":
            found.append(f"group {group} was told but not left")
    answered = {a["callback_query_id"] for a in sandbox.callback_answers}
    attempts = answer_attempts(sandbox)
    # A message added to a request already sent is acknowledged with a 👍 on it, not a text.
    # The sandbox refuses that reaction on an injected message (it keeps no record of one),
    # so the attempt counts: Telegram would show it.
    reacted = {
        (params.get("chat_id"), params.get("message_id"))
        for method, params in sandbox.calls
        if method == "setMessageReaction"
    }
    for item in sent:
        if item.wants_reply:
            key = (item.chat_id, item.payload["message_id"])
            update_id = recorder.by_message.get(key)
            if not any(
                event.kind in ("sent", "edited") and event.chat_id == item.chat_id
                for event in recorder.events.get(update_id, [])
            ) and (key not in reacted):
                found.append(f"no answer to the private text {_short(item.payload)}")
        if item.query_id is not None and item.query_id not in answered | crashed_queries:
            found.append(f"button press not answered: {_short(item.payload.get('data'))}")
        if item.query_id is not None and attempts[item.query_id] > 1:
            # Telegram takes one answer: the second fails, and with it what the first promised.
            found.append(
                f"button press answered {attempts[item.query_id]} times: "
                f"{_short(item.payload.get('data'))}"
            )
    return found


def answer_attempts(sandbox: BotApiSandbox) -> Counter[str]:
    """answerCallbackQuery calls per press, refused ones (a second answer) included."""
    return Counter(
        str(params.get("callback_query_id"))
        for method, params in sandbox.calls
        if method == "answerCallbackQuery"
    )


async def send_all(sandbox: BotApiSandbox, world, plans: list[Plan]) -> list[Sent]:
    """In tens, so that presses find the bot's newer messages too."""
    sent: list[Sent] = []
    for start in range(0, len(plans), 10):
        for plan in plans[start : start + 10]:
            item = await world.send(plan)
            if item is not None:
                sent.append(item)
        await sandbox.wait_for_idle(timeout=30)
    return sent


def assert_no_problems(found: list[str], sent: list[Sent]) -> None:
    assert not found, f"{len(found)} problems in {len(sent)} updates:\n" + "\n".join(found)


# ---------------------------------------------------------------------------------- tests


async def random_private_updates(application, recorder, sandbox, caplog, factor: int):
    resident = Chat(sandbox, sandbox.add_user(first_name="Rana", language_code="de"))
    await agree(resident, await resident.send("/start"))
    newcomer = Chat(sandbox, sandbox.add_user(first_name="Neu", language_code=None))
    await newcomer.send("/start")  # the language chooser
    admin = Chat(sandbox, sandbox.add_user(first_name="Anna", user_id=ADMIN_ID))
    await admin.send("/start")
    group = PrivateWorld.GROUP
    sandbox.add_group(group["title"], "supergroup", chat_id=group["id"], bot_status="member")
    await sandbox.wait_for_idle()
    caplog.clear()
    people = {"resident": resident.user, "newcomer": newcomer.user, "admin": admin.user}
    plans = mixed(private_plans(registered_commands(application)), PRIVATE_MIX, factor)
    sent = await send_all(sandbox, PrivateWorld(sandbox, people), plans)
    found = problems(sandbox, recorder, sent, caplog, (PrivateWorld.CHANNEL["id"],), (group["id"],))
    assert_no_problems(found, sent)
    assert len(sandbox.messages_to(group["id"])) == 1  # the strategies reach the group
    return sent


async def test_random_private_updates_get_answers_and_never_a_crash(fuzzed, sandbox, caplog):
    """Residents, newcomers and staff in private chats, strangers, groups and channels."""
    sent = await random_private_updates(*fuzzed, sandbox, caplog, factor=1)
    assert sum(item.wants_reply for item in sent) > 100  # the strategies still reach the bot
    assert sum(item.query_id is not None for item in sent) > 100


@pytest.mark.slow
async def test_many_random_private_updates(fuzzed, sandbox, caplog):
    await random_private_updates(*fuzzed, sandbox, caplog, factor=10)


async def resident_with_case_topic(sandbox, services) -> tuple[Chat, int]:
    """Olga asks about a Jobcenter letter; returns her chat and her case's forum topic."""
    resident = Chat(sandbox, sandbox.add_user(first_name="Olga", language_code="ru"))
    menu = await agree(resident, await resident.send("/start"))
    topics = await resident.press_data(menu, keyboards.MENU_ASK)
    districts = await resident.press_data(topics, keyboards.REQUEST_TOPIC_PREFIX + "debt")
    await resident.press_data(districts, keyboards.REQUEST_DISTRICT_PREFIX + "1")
    await resident.ask("Мне пришло письмо от Jobcenter")  # past the quick answers

    async def case_thread():
        # Hers, not case 1: in the 10,000-update run random residents asked first.
        cases = await services.cases.repo.for_resident(resident.id)
        return cases[0].thread_id if cases else None

    return resident, await eventually(case_thread)


async def random_staff_group_updates(application, recorder, sandbox, staff_group, caplog, factor):
    services = application.bot_data[SERVICES_KEY]
    resident, thread = await resident_with_case_topic(sandbox, services)
    for staff_id in (ADMIN_ID, STAFF_ID):  # staff open their private chat: /start
        await sandbox.send_message(staff_id, "/start")
    other = await sandbox.create_forum_topic(ADMIN_ID, staff_group, "Dienstplan")
    await sandbox.wait_for_idle()
    caplog.clear()
    people = {
        "admin": sandbox.users[ADMIN_ID],
        "staff": sandbox.users[STAFF_ID],
        "resident": resident.user,
    }
    world = StaffGroupWorld(sandbox, staff_group, people, thread, other)
    plans = mixed(staff_group_plans(registered_commands(application)), STAFF_GROUP_MIX, factor)
    sent = await send_all(sandbox, world, plans)
    assert_no_problems(problems(sandbox, recorder, sent, caplog), sent)
    return sent


async def test_random_staff_work_in_the_staff_group_never_crashes(
    fuzzed_with_staff_group, sandbox, staff_group, caplog
):
    """/t, /take, /close, /note … with junk, in the case topic, another topic and General;
    edits, forged card buttons; the resident writing and pressing meanwhile."""
    application, recorder = fuzzed_with_staff_group
    sent = await random_staff_group_updates(
        application, recorder, sandbox, staff_group, caplog, factor=1
    )
    assert sum(item.query_id is not None for item in sent) > 30


@pytest.mark.slow
async def test_much_random_staff_work(fuzzed_with_staff_group, sandbox, staff_group, caplog):
    application, recorder = fuzzed_with_staff_group
    await random_staff_group_updates(application, recorder, sandbox, staff_group, caplog, 10)


@pytest.mark.slow
async def test_ten_thousand_random_updates(fuzzed_with_staff_group, sandbox, staff_group, caplog):
    """Issue 14: 10,000 random updates on one bot with a staff group, private chats, other
    groups and channels first, then staff work in the topics; not one exception (162
    AssertionErrors came from the consent bypass before it was closed)."""
    application, recorder = fuzzed_with_staff_group
    sent = await random_private_updates(application, recorder, sandbox, caplog, factor=20)
    sent += await random_staff_group_updates(
        application, recorder, sandbox, staff_group, caplog, factor=16
    )
    assert len(sent) >= 10_000
    assert recorder.errors == []


async def random_updates_while_telegram_fails(application, recorder, sandbox, factor: float):
    """The private-chat mix while a seeded fifth of Telegram calls fail (500s and answers lost
    on the way): every failure is Telegram's or an undecided staff check, never one of ours, and
    nobody who has not agreed to the privacy notice gets anything stored but id, chat and
    language (issue 14: the consent gate let updates through when its notice could not be
    sent; in a 10,000-update run that showed as 162 AssertionErrors)."""
    resident = Chat(sandbox, sandbox.add_user(first_name="Rana", language_code="de"))
    await agree(resident, await resident.send("/start"))
    newcomer = Chat(sandbox, sandbox.add_user(first_name="Neu", language_code="de"))
    await newcomer.send("/start")  # the privacy notice, not agreed to
    admin = Chat(sandbox, sandbox.add_user(first_name="Anna", user_id=ADMIN_ID))
    await admin.send("/start")
    await sandbox.wait_for_idle()
    people = {"resident": resident.user, "newcomer": newcomer.user, "admin": admin.user}
    plans = mixed(private_plans(registered_commands(application)), PRIVATE_MIX, factor)
    sandbox.chaos(14, 0.2, kinds=("500", "timeout"))
    try:
        sent = await send_all(sandbox, PrivateWorld(sandbox, people), plans)
    finally:
        sandbox.chaos(14, 0)
    await sandbox.wait_for_idle(timeout=30)
    ours = [
        f"{type(error).__name__}: {error} at {_where(error)}"
        for _, error in recorder.errors
        if not isinstance(error, TelegramError | StaffCheckUnavailable)
    ]
    assert ours == [], "\n".join(ours)
    assert sum(isinstance(e, TelegramError) for _, e in recorder.errors) > 10  # it did fail
    services = application.bot_data[SERVICES_KEY]
    stored = await services.db.fetchall(
        "SELECT c.id FROM cases c LEFT JOIN residents r ON r.user_id = c.resident_id"
        " WHERE r.consent_at IS NULL"
    )
    assert stored == []  # not a draft, not a name, for anybody who has not agreed
    return sent


async def test_random_updates_while_telegram_fails_never_pass_the_consent_gate(
    fuzzed, sandbox, monkeypatch
):
    # Half the private mix (194 updates, every kind at least twice): a fifth of Telegram's
    # answers failing makes each update slow (back-offs after failed getUpdates), and this was
    # the suite's longest test. The full mix 26 times over runs in `make test-all`
    # (test_ten_thousand_random_updates_while_telegram_fails).
    # Failed getUpdates in a row (four or five happen with this seed) doubled the poller's
    # back-off to 8 s, and the test waited 15 s at a time for nothing; the back-off itself is
    # test_intake.py's subject, so here it is a test's time (as there).
    monkeypatch.setattr(polling, "FIRST_BACKOFF", 0.05)
    monkeypatch.setattr(polling, "MAX_BACKOFF", 0.2)
    application, recorder = fuzzed
    await random_updates_while_telegram_fails(application, recorder, sandbox, factor=0.5)


@pytest.mark.slow
async def test_ten_thousand_random_updates_while_telegram_fails(fuzzed, sandbox):
    application, recorder = fuzzed
    sent = await random_updates_while_telegram_fails(application, recorder, sandbox, factor=26)
    assert len(sent) >= 10_000


# The minimal inputs of the crashes this test found (issue 7), one each: who, what they send,
# and where it used to crash. Each now gets the normal answer; test_found_crashes_stay_fixed
# replays them.
FOUND_CRASHES = [
    ("resident", "press", "req:district:²", "handlers/resident/requests.py choose_district"),
    # Found by the 10,000-update run after the deep links (issue 17) came in.
    ("resident", "press", "lang:chooser:²", "handlers/resident/onboarding.py link_reference"),
    ("resident", "press", "consent:agree:²", "handlers/resident/onboarding.py link_reference"),
    ("resident", "press", "ev:optin:²", "handlers/resident/events.py button"),
    ("resident", "press", "ev:toggle:²", "handlers/resident/events.py button"),
    ("resident", "press", "ev:rsvp:²", "handlers/resident/events.py button"),
    ("resident", "press", "ev:rsvp:9223372036854775808", "handlers/resident/events.py button"),
    (
        "resident",
        "press",
        "ap:cancel:9223372036854775808",
        "handlers/resident/appointments.py step",
    ),
    ("resident", "press", "ap:cancel:²", "handlers/resident/appointments.py step"),
    ("resident", "press", "ap:d:99991231", "bot/appointments/service.py free_times"),
    ("admin", "text", "/audit ²", "handlers/staff/commands.py audit"),
    ("admin", "text", "/audit 9223372036854775808", "handlers/staff/commands.py audit"),
    ("admin", "text", "/closed 9999-12-31", "bot/appointments/service.py close_day"),
    ("admin", "text", "/closed 0001-01-01", "bot/appointments/service.py close_day"),
    ("admin", "press", "sa:confirm:²", "handlers/staff/appointments.py button"),
    ("admin", "press", "sa:confirm:9223372036854775808", "handlers/staff/appointments.py"),
    ("admin", "press", "case:take:²", "handlers/staff/group.py card_button"),
    ("admin", "press", "case:take:9223372036854775808", "handlers/staff/group.py card_button"),
    ("admin", "press", "q:open:²", "handlers/staff/queue.py queue_button"),
    ("admin", "press", "q:open:9223372036854775808", "handlers/staff/queue.py queue_button"),
    ("admin", "press", "q:read:1", "handlers/staff/queue.py queue_button: answered twice"),
    ("admin", "press", "se:time:²", "handlers/staff/events.py _manage"),
    ("admin", "press", "se:time:9223372036854775808", "handlers/staff/events.py _manage"),
    ("admin", "press", "se:cancelyes:²", "handlers/staff/events.py _manage"),
    ("admin", "press", "se:cancelyes:9223372036854775808", "handlers/staff/events.py _manage"),
    ("admin", "press", "ne:d:x", "handlers/staff/events.py button (after /newevent)"),
    ("admin", "press", "sa:pd:1:10", "handlers/staff/appointments.py button: strptime"),
    ("admin", "press", "sa:ps:1:2026", "handlers/staff/appointments.py button: strptime"),
    ("admin", "press", "sa:pd:1:99991231", "handlers/staff/appointments.py button: overflow"),
    ("admin", "press", "sa:propose:1", "handlers/staff/appointments.py button: answered twice"),
    ("admin", "press", "q:close:1", "handlers/staff/queue.py queue_button: answered twice"),
    ("admin", "press", "ne:d:6", "handlers/staff/events.py button: DISTRICTS[6]"),
    ("admin", "press", "ne:publish", "handlers/staff/events.py _draft_event: no title yet"),
    ("admin", "press", "ne:pv:ar", "handlers/staff/events.py _draft_event: no title yet"),
]


async def test_found_crashes_stay_fixed(fuzzed, sandbox, caplog):
    """Each input alone, on one bot: no exception reaches the error handler, nothing is logged
    as an error, every press is answered exactly once and every command gets a reply."""
    application, recorder = fuzzed
    services = application.bot_data[SERVICES_KEY]
    resident = Chat(sandbox, sandbox.add_user(first_name="Rana", language_code="de"))
    menu = await agree(resident, await resident.send("/start"))
    # A booking with a place chosen: a day then leads to that day's free times.
    topics = await resident.press_data(menu, keyboards.MENU_APPOINTMENT)
    places = await resident.press_data(topics, "ap:t:debt")
    await resident.press_data(places, "ap:l:" + services.org.locations[0].key)
    admin = Chat(sandbox, sandbox.add_user(first_name="Anna", user_id=ADMIN_ID))
    title_question = await admin.send("/newevent")  # a draft, for the "ne:" buttons
    await sandbox.wait_for_idle()
    caplog.clear()
    broken, replies, answers = [], {}, {}
    for who, how, what, where in FOUND_CRASHES:
        chat = resident if who == "resident" else admin
        errors, seen = len(recorder.errors), chat.seen()
        if how == "press":
            query = await sandbox.press_button(chat.user, chat.last(), what, forge=True)
            await sandbox.wait_for_idle()
            answers[what] = answers_to(sandbox, query["id"])
            if len(answers[what]) != 1:
                broken.append(f"{who} {what!r}: {len(answers[what])} answers ({where})")
        else:
            await sandbox.send_message(chat.user, what)
            await sandbox.wait_for_idle()
        replies[what] = [m.text for m in sandbox.messages_to(chat.id)[seen:]]
        if how == "text" and not replies[what]:
            broken.append(f"{who} {what!r}: no reply ({where})")
        broken += [f"{who} {what!r}: {e!r} ({where})" for _, e in recorder.errors[errors:]]
    broken += [
        f"logged {r.levelname} by {r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.ERROR
    ]
    assert not broken, "\n".join(broken)

    de = services.i18n.translator("de")
    usage = de._("Usage: /closed YYYY-MM-DD [location]; locations: %(keys)s (none: all)") % {
        "keys": ", ".join(location.key for location in services.org.locations)
    }
    assert replies["/closed 9999-12-31"] == replies["/closed 0001-01-01"] == [usage]
    assert await services.appointments.repo.closed_days("*") == set()
    assert replies["/audit ²"] == [de._("Case %(case)s does not exist.") % {"case": "#²"}]
    # The draft has no title yet: nothing changes, and the question it waits for comes again.
    assert replies["ne:publish"] == replies["ne:d:6"] == [title_question.text]
    assert await services.events.repo.draft(ADMIN_ID) == ("event", "title", {})
    # No such appointment or case: the one answer is the alert that says so.
    for what in ("sa:propose:1", "q:close:1", "q:read:1"):
        assert answers[what][0].get("show_alert"), (what, answers[what])
    # A translation for an event that does not exist (a forged "se:" button): a warning.
    await sandbox.press_button(admin.user, admin.last(), "se:trl:5:ar", forge=True)
    await sandbox.wait_for_idle()
    await admin.send("Titel")
    assert (await admin.send("Text")).text.startswith("⚠️")
    assert not recorder.errors


def answers_to(sandbox: BotApiSandbox, query_id: str) -> list[dict[str, Any]]:
    """The answerCallbackQuery calls for one press, refused ones included."""
    return [
        params
        for method, params in sandbox.calls
        # The sandbox's record of a call turns numeric ids into ints.
        if method == "answerCallbackQuery" and str(params.get("callback_query_id")) == query_id
    ]


async def test_refused_case_actions_answer_a_press_once(
    fuzzed_with_staff_group, sandbox, staff_group, caplog
):
    """Closing a closed case, reopening an open one, an unknown canned reply: from the card in
    the topic and from /queue, each press gets one answer (a refusal as an alert)."""
    application, recorder = fuzzed_with_staff_group
    services = application.bot_data[SERVICES_KEY]
    await resident_with_case_topic(sandbox, services)
    admin = Chat(sandbox, sandbox.users[ADMIN_ID])
    await admin.send("/start")
    await sandbox.wait_for_idle()
    caplog.clear()
    in_topic = [
        ("case:take:1", False), ("case:close:1", False), ("case:close:1", True),
        ("case:take:1", True), ("case:send:1:no_such_reply", False), ("case:reopen:1", False),
        ("case:reopen:1", True), ("case:templates:1", False), ("case:close:2", True),
    ]  # fmt: skip
    in_private = [
        ("q:close:1", False), ("q:close:1", True), ("q:read:1", False), ("q:reopen:1", False),
        ("q:reopen:1", True), ("q:read:2", True), ("q:open:1", False), ("q:take:2", True),
    ]  # fmt: skip
    broken = []
    for presses, chat_id in ((in_topic, staff_group.id), (in_private, ADMIN_ID)):
        for data, refused in presses:
            errors = len(recorder.errors)
            message = sandbox.messages_to(chat_id)[-1]
            query = await sandbox.press_button(admin.user, message, data, forge=True)
            await sandbox.wait_for_idle()
            answers = answers_to(sandbox, query["id"])
            alert = [bool(a.get("show_alert")) for a in answers]
            if alert != [refused]:
                broken.append(f"{data}: answers {answers}, expected one (alert: {refused})")
            broken += [f"{data}: {e!r}" for _, e in recorder.errors[errors:]]
    broken += [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not broken, "\n".join(broken)
    assert (await services.cases.repo.get(1)).status != "closed"  # reopened at the end


# The pure parts, with shrinking: derandomised like the rest, so CI stays deterministic.
FIXED_DRAWS = hypothesis_settings(derandomize=True, database=None)


@FIXED_DRAWS
@given(st.one_of(NUMBERISH, st.text(ANY_CHAR, max_size=25)))
@example("²")
@example("9223372036854775808")
def test_ids_and_indexes_from_user_input_never_raise(text):
    """Only ASCII digits, only what SQLite stores; an index only inside the sequence."""
    value = user_input.parse_id(text)
    assert value is None or (0 < value < 2**63 and str(value) == text.lstrip("0"))
    index = user_input.parse_index(text, 2)
    assert index is None or index in (0, 1)


@FIXED_DRAWS
@given(st.text(ANY_CHAR, max_size=14) | st.from_regex(r"[0-9]{8,12}", fullmatch=True))
@example("99991231")
@example("000101010000")
def test_days_and_times_from_callback_data_never_raise(text):
    for pattern in ("%Y%m%d", "%Y%m%d%H%M"):
        moment = user_input.parse_moment(text, pattern)
        if moment is not None:  # a day's window around it stays inside the calendar
            moment.replace(tzinfo=UTC) - timedelta(days=2)
            moment.replace(tzinfo=UTC) + timedelta(days=2)


@FIXED_DRAWS
@given(st.one_of(SHORT_TEXT, st.builds("3.12. um {} Uhr".format, NUMBERISH)))
@example("3.12. um ² Uhr")  # "²".isdigit(), but int() refuses it
def test_german_dates_never_raise(text):
    """What staff type as an event's time: an answer or a question back, never an exception."""
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    parse_german_datetime(text, now, ZoneInfo("Europe/Berlin"))
