"""The durable inbox, the webhook receiver and a bad day at Telegram, against the sandbox.

The process-level faults (kill -9, SIGTERM, a corrupt database) are in test_process_faults.py.
"""

from __future__ import annotations

import io
import json
import socket
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
from cryptography.fernet import Fernet

from bot.app import SERVICES_KEY, running
from bot.core.crypto import Cipher
from bot.core.db import Database
from bot.core.outgoing import Outgoing, Render
from bot.transport.inbox import InboxRepository, Received
from tests.conftest import agree, eventually, make_application
from tests.test_cases_e2e import (  # the staff group fixtures, shared
    case_topic,
    group,  # noqa: F401
    request,
    staff,  # noqa: F401
    staff_settings,  # noqa: F401
    topic_messages,
)


def _start_update(user, update_id: int, text: str = "/start") -> dict:
    """The update as the previous run stored it; the user had written to the bot then."""
    user.started = True
    user_dict = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    user_dict["language_code"] = user.language_code
    message = {
        "message_id": 1,
        "date": 1_780_000_000,
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": user_dict,
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


def _received(data: dict) -> Received:
    return Received(data["update_id"], json.dumps(data), data)


async def _inbox_rows(db_path) -> list[tuple]:
    db = await Database.open(db_path)
    try:
        await db.migrate()
        return [tuple(row) for row in await db.fetchall("SELECT * FROM inbox ORDER BY 1")]
    finally:
        await db.close()


async def test_an_update_stored_but_not_handled_is_handled_at_the_next_start(
    sandbox, settings, clock, chat_as
):
    """The previous run stored /start and died before handling it: Telegram will not send it
    again (it was confirmed), so the inbox is the only place it still exists."""
    olga = chat_as("ru", "Olga")
    db = await Database.open(settings.db_path)
    await db.migrate()
    await InboxRepository(db).store([_received(_start_update(olga.user, 7_000))], clock.now())
    await db.close()

    application = make_application(settings, clock)
    async with running(application):
        notice = await sandbox.wait_for_message(olga.id)
        assert "consent:agree" in [b.get("callback_data") for row in notice.buttons for b in row]
        await sandbox.wait_for_idle()
    rows = await _inbox_rows(settings.db_path)
    assert [(r[0], r[1]) for r in rows if r[0] == 7_000] == [(7_000, None)]  # done, text gone
    assert all(r[3] is not None for r in rows)


async def test_an_update_telegram_sends_again_is_not_handled_twice(
    sandbox, settings, clock, chat_as
):
    """Telegram did not see the confirmation (the process died before its next getUpdates) and
    sends the same update_ids again: neither the command nor the message is handled twice."""
    amal = chat_as("ar", "Amal")
    application = make_application(settings, clock)
    async with running(application):
        notice = await amal.send("/start")
        start_id = max(sandbox.confirmed_update_ids | {0})
        await agree(amal, notice)
        question = await amal.send("سؤال عن الإيجار")
        assert question is not None
        await sandbox.wait_for_idle()
    seen = amal.seen()
    message_ids = sorted(sandbox.confirmed_update_ids)
    for update_id in (start_id, message_ids[-1]):
        sandbox.resend_update(update_id)

    application = make_application(settings, clock)
    async with running(application):
        await sandbox.wait_for_idle()
        services = application.bot_data[SERVICES_KEY]
        messages = await services.cases.repo.messages(1)
    assert amal.seen() == seen
    assert [m.text for m in messages if m.direction == "in"] == ["سؤال عن الإيجار"]


async def test_pending_updates_are_sealed_and_handled_ones_keep_no_content(
    sandbox, settings, clock, chat_as
):
    key = Fernet.generate_key().decode()
    sealed = replace(settings, encryption_keys=(key,))
    olga = chat_as("ru", "Olga")
    db = await Database.open(sealed.db_path)
    await db.migrate()
    await InboxRepository(db, Cipher((key,))).store(
        [_received(_start_update(olga.user, 8_000, "/help"))], clock.now()
    )
    raw = (await db.fetchone("SELECT payload FROM inbox WHERE update_id = 8000"))[0]
    await db.close()
    assert raw.startswith("enc1:") and "/help" not in raw

    application = make_application(sealed, clock)
    async with running(application):
        await sandbox.wait_for_message(olga.id)
        await sandbox.wait_for_idle()
    rows = await _inbox_rows(sealed.db_path)
    assert rows and all(r[1] is None for r in rows)


# -- webhook mode ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webhook_settings(settings):
    port = _free_port()
    return replace(
        settings,
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        webhook_secret="s3cret-Token_1",
        webhook_listen=("127.0.0.1", port),
    )


async def test_webhook_mode_stores_then_answers_and_refuses_what_is_not_telegram(
    sandbox, webhook_settings, clock, chat_as
):
    olga = chat_as("ru", "Olga")
    application = make_application(webhook_settings, clock)
    async with running(application, webhook=True):
        # Telegram's own delivery, with the secret: handled.
        notice = await olga.send("/start")
        assert notice.button_texts
        await sandbox.wait_for_idle()
        before = await _count_inbox(application)
        seen = olga.seen()

        url = webhook_settings.webhook_url
        good = {"X-Telegram-Bot-Api-Secret-Token": webhook_settings.webhook_secret}
        forged = json.dumps(_start_update(olga.user, 9_001))
        async with aiohttp.ClientSession() as http:

            async def post(data, headers, content_type="application/json"):
                headers = {**headers, "Content-Type": content_type}
                async with http.post(url, data=data, headers=headers) as response:
                    return response.status

            assert await post(forged, {}) == 403
            assert await post(forged, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token_2"}) == 403
            assert await post(forged, {"X-Telegram-Bot-Api-Secret-Token": "ü"}) == 403
            assert await post(forged, good, "text/plain") == 415
            assert await post("{not json", good) == 400
            assert await post("[1, 2]", good) == 400
            assert await post(json.dumps({"update_id": "x"}), good) == 400
            ten_mb = json.dumps({"update_id": 9_002, "message": {"text": "x" * 10_000_000}})
            assert await post(io.BytesIO(ten_mb.encode()), good) == 413
            await sandbox.wait_for_idle()
            assert olga.seen() == seen  # no handler ran for any of them
            assert await _count_inbox(application) == before

            # The same update with the right secret is an update like any other, and once only.
            assert await post(forged, good) == 200
            assert await post(forged, good) == 200
            await sandbox.wait_for_message(olga.id, after=seen)
            await sandbox.wait_for_idle()
            assert olga.seen() == seen + 1
            assert await _count_inbox(application) == before + 1


async def _count_inbox(application) -> int:
    services = application.bot_data[SERVICES_KEY]
    row = await services.db.fetchone("SELECT COUNT(*) FROM inbox")
    return row[0]


# -- a bad day at Telegram ------------------------------------------------------------------------


async def test_random_500s_timeouts_429s_and_403s_lose_no_case(
    sandbox,
    staff_settings,  # noqa: F811
    clock,
    group,  # noqa: F811
    chat_as,
    staff,  # noqa: F811
):
    """Seeded chaos on every API call while residents write and staff answer: the bot keeps
    running, every message is stored in its case, every staff answer is delivered or reported,
    and failed deliveries wait for their back-off instead of hammering the API."""
    residents = [chat_as(lang, f"R{i}") for i, lang in enumerate(("ar", "ru", "de", "uk", "en"))]
    application = make_application(staff_settings, clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        for chat in residents:
            await request(services, chat, f"Frage von {chat.user.first_name}", "Debt")
        cases = [await case_topic(sandbox, services, i + 1) for i in range(len(residents))]

        sandbox.chaos(seed=20261126, rate=0.25)
        calls_before = len(sandbox.calls)
        written = []
        for round_ in range(4):
            for chat in residents:
                sent = await sandbox.send_message(chat.user, f"{chat.user.first_name} #{round_}")
                written.append((chat.id, sent["message_id"]))
        for case in cases:
            await sandbox.send_message(
                staff[0], f"Antwort {case.id}", chat=group, message_thread_id=case.thread_id
            )
        await sandbox.wait_for_idle(timeout=30)
        chaos_calls = len(sandbox.calls) - calls_before
        counts = sandbox.chaos_counts
        sandbox.chaos(seed=0, rate=0)
        assert application.running
        assert sum(counts.values()) >= 10 and len(counts) >= 3  # the chaos did happen

        # Everything written is in its case, whatever Telegram answered.
        stored = set()
        for case in cases:
            for m in await services.cases.repo.messages(case.id, limit=100):
                stored.add((m.source_chat_id, m.source_message_id))
        assert set(written) <= stored
        # Back-off, not a hot loop: a few calls per message, not hundreds.
        assert chaos_calls < 30 * (len(written) + len(cases))

        # Once Telegram is well again and the back-off has passed, every delivery is settled:
        # delivered, refused, or uncertain (the answer was lost: it may have arrived).
        async def settled():
            clock.advance(timedelta(minutes=10))
            services.courier.kick()
            rows = []
            for case in cases:
                rows += await services.cases.repo.messages(case.id, limit=100)
            return all(m.relay_status in ("sent", "failed", "uncertain") for m in rows) and rows

        rows = await eventually(settled, within=30)
        await sandbox.wait_for_idle(timeout=30)
        failed = [m for m in rows if m.relay_status == "failed"]
        # A failure is final only for a 403 ("blocked"), and staff are told in the topic.
        assert all(m.direction == "out" for m in failed)
        for m in failed:
            case = next(c for c in cases if c.id == m.case_id)
            assert (
                any(
                    "🚫" in (t.text or "") or "blocked" in (t.text or "").lower()
                    for t in topic_messages(sandbox, group, case.thread_id)
                )
                or m.relay_error
            )
        # Uncertain is shown, never repeated by itself: a line in the case's topic with
        # "send again" for each, and at most the one copy Telegram may have made.
        queue = Outgoing(services.db)
        for m in [m for m in rows if m.relay_status == "uncertain"]:
            case = next(c for c in cases if c.id == m.case_id)
            (row,) = [
                r
                for r in await queue.rows(case_id=case.id)
                if r.content == Render("case.message", {"message": m.id})
            ]
            assert row.status == "uncertain"

            async def shown(case=case, row=row):
                # The line is queued with the verdict and sent by the courier: a first try
                # that met the chaos is tried again after its back-off.
                clock.advance(timedelta(minutes=10))
                services.courier.kick()
                buttons = [
                    b.get("callback_data")
                    for t in topic_messages(sandbox, group, case.thread_id)
                    for line in t.buttons
                    for b in line
                ]
                return f"out:again:{row.id}" in buttons

            await eventually(shown)
            if m.direction == "out":
                resident = residents[cases.index(case)]
                assert sum(x.text == m.text for x in sandbox.messages_to(resident.id)) <= 1
