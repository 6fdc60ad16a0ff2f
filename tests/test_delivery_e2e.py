# ruff: noqa: F811  (the staff group fixtures are imported from test_cases_e2e)
"""The one durable path out, end to end through the real Application and the sandbox: the
reproductions of issue 13 (item 3: a bad minute at Telegram loses nothing; the relay side of
item 2: one flooding resident delays nobody; item 5 in-process: uncertain broadcasts shown).

Each test observes only what Telegram would see (the sandbox), so it runs against the code
before the courier as well (it failed there; see the commit that added it)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from bot.app import SERVICES_KEY, running
from bot.transport.courier import Limits
from tests.conftest import ADMIN_ID, Chat, agree, eventually, make_application
from tests.test_cases_e2e import (  # the staff group fixtures, shared
    case_topic,
    group,  # noqa: F401
    request,
    services,  # noqa: F401
    staff,  # noqa: F401
    staff_settings,  # noqa: F401
    topic_messages,
)
from tests.test_events_e2e import subscribe

QUESTION_WITH_ANSWERS = "Ich habe eine Mahnung bekommen und verstehe sie nicht."


def nudge(services) -> None:
    """The retry time has come: the clock moves on and the sender looks again."""
    services.clock.advance(timedelta(minutes=10))
    sender = getattr(services, "courier", None) or services.relay
    sender.kick()


async def to_the_question(chat: Chat, services, topic: str = "Debt") -> None:
    """A consented resident has chosen topic and district; the bot waits for the text."""
    t = services.i18n.translator(chat.user.language_code)
    menu = await agree(chat, await chat.send("/start"))
    topics = await chat.press(menu, t._("✍️ Ask a question"))
    districts = await chat.press(topics, next(b for b in topics.button_texts if t._(topic) in b))
    await chat.press(districts, "📍 Rieth")


async def test_a_502_window_delays_the_quick_answer_offer_but_loses_neither_it_nor_the_request(
    sandbox, services, group, chat_as
):
    """Issue 13, item 3: a question that matched quick answers got neither the offer nor the
    apology during a 502 window, and the draft stayed a draft nobody saw."""
    dana = chat_as("de", "Dana")
    await to_the_question(dana, services)
    seen = dana.seen()
    sandbox.start_outage()  # Telegram answers 502 to every send; getUpdates keeps working
    await sandbox.send_message(dana.user, QUESTION_WITH_ANSWERS)
    await asyncio.sleep(1.0)  # the window: the bot stores the question and tries to answer
    sandbox.end_outage()
    nudge(services)
    offer = await sandbox.wait_for_message(dana.id, after=seen, timeout=10)
    assert "sh:a" in [b.get("callback_data") for row in offer.buttons for b in row]
    confirmation = await dana.press_data(offer, "sh:a")  # "I still want to ask"
    assert "#1" in confirmation.text
    case = await case_topic(sandbox, services, 1)
    assert [m.text for m in topic_messages(sandbox, group, case.thread_id)][1] == (
        QUESTION_WITH_ANSWERS
    )
    offers = [m for m in sandbox.messages_to(dana.id)[seen:] if m.text == offer.text]
    assert len(offers) == 1  # once: retried, not repeated


async def test_a_502_window_delays_the_confirmation_but_does_not_lose_it(
    sandbox, services, group, chat_as
):
    """Issue 13, item 3: "your request #4 arrived" was lost the same way."""
    olga = chat_as("ru", "Olga")
    await to_the_question(olga, services, "Housing search")
    seen = olga.seen()
    sandbox.start_outage()
    await sandbox.send_message(olga.user, "Нам нужна квартира побольше, что делать?")
    await asyncio.sleep(1.0)
    sandbox.end_outage()
    nudge(services)
    confirmation = await sandbox.wait_for_message(olga.id, after=seen, timeout=10)
    assert "#1" in confirmation.text
    await sandbox.wait_for_idle()
    assert olga.seen() == seen + 1  # exactly one confirmation


async def test_a_passing_error_on_a_new_topic_is_retried_at_once_not_after_the_long_pause(
    sandbox, services, group, chat_as
):
    """Issue 13, item 3: a 502 on createForumTopic triggered the 30 s pause meant for a
    misconfigured staff group, so staff got the case late."""
    sandbox.fail_next("createForumTopic", status=502, description="Bad Gateway")
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال عن الإيجار", "Debt")

    async def tried():
        return any(name == "createForumTopic" for name, _ in sandbox.calls)

    await eventually(tried)
    await sandbox.wait_for_idle()  # the 502 is recorded
    services.clock.advance(timedelta(seconds=5))  # past a short back-off, far from 30 s
    getattr(services, "courier", services.relay).kick()
    started = time.monotonic()
    case = await case_topic(sandbox, services, 1)
    assert time.monotonic() - started < 5
    assert [m.text for m in topic_messages(sandbox, group, case.thread_id)][1] == (
        "سؤال عن الإيجار"
    )


async def test_an_answer_lost_on_the_way_back_is_shown_as_uncertain_and_sent_again_on_request(
    sandbox, services, group, staff, chat_as
):
    """The staff answer reached the resident but Telegram's answer was lost: not sent a second
    time by itself, not dropped: a line under the staff message with "send again"."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    sandbox.lose_next("copyMessage", mode="reset")
    sent = await sandbox.send_message(
        staff[0], "Antwort, die ankommt", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_message(amal.id, after=seen)
    await sandbox.wait_for_idle()
    nudge(services)
    await sandbox.wait_for_idle()
    assert [m.text for m in sandbox.messages_to(amal.id)[seen:]] == ["Antwort, die ankommt"]
    assert sandbox.reactions(group.id, sent["message_id"]) == []  # not "delivered"
    (line,) = [
        m
        for m in topic_messages(sandbox, group, case.thread_id)
        if any(b.get("callback_data", "").startswith("out:again:") for r in m.buttons for b in r)
    ]
    assert line.raw["reply_to_message"]["message_id"] == sent["message_id"]
    assert "Telegram hat diese Zustellung nicht bestätigt" in line.text
    # Staff decide: send it again. The button is used up; the second copy is delivered.
    anna = Chat(sandbox, staff[0])
    await anna.press_data(line, line.buttons[0][0]["callback_data"])
    await sandbox.wait_for_idle()
    assert [m.text for m in sandbox.messages_to(amal.id)[seen:]] == [
        "Antwort, die ankommt",
        "Antwort, die ankommt",
    ]
    assert sandbox.reactions(group.id, sent["message_id"]) == ["👍"]
    edited = next(m for m in sandbox.messages_to(group.id) if m.message_id == line.message_id)
    assert edited.buttons == [] and "Erneut gesendet" in edited.text


async def test_a_slow_acknowledgement_never_holds_up_the_next_answer(
    sandbox, services, group, staff, chat_as
):
    """Issue 13, item 2: the relay waited for each 👍 inline. A reaction whose answer hangs
    until the client gives up must not delay the next staff answer."""
    amal, olga = chat_as("ar", "Amal"), chat_as("ru", "Olga")
    await request(services, amal, "سؤال", "Debt")
    await request(services, olga, "Вопрос", "Debt")
    case_a = await case_topic(sandbox, services, 1)
    case_o = await case_topic(sandbox, services, 2)
    sandbox.lose_next("setMessageReaction", mode="timeout", hold=3)  # longer than the 1.5 s below
    await sandbox.send_message(staff[0], "Erste", chat=group, message_thread_id=case_a.thread_id)
    await sandbox.wait_for_message(amal.id, predicate=lambda m: m.text == "Erste")
    started = time.monotonic()
    await sandbox.send_message(staff[0], "Zweite", chat=group, message_thread_id=case_o.thread_id)
    await sandbox.wait_for_message(olga.id, predicate=lambda m: m.text == "Zweite")
    assert time.monotonic() - started < 1.5


@pytest.fixture
async def real_limits(staff_settings, clock):
    """The bot with Telegram's own budgets, against a sandbox that enforces the group's; only
    the resident's burst is halved, so that the three new cases and the burst fit into one of
    the group's minutes (18 of 20 for the courier) and the test need not wait for the next."""
    application = make_application(staff_settings, clock, limits=Limits(sender_burst=5))
    async with running(application):
        yield application.bot_data[SERVICES_KEY]


async def test_a_flooding_resident_delays_neither_staff_answers_nor_other_residents(
    sandbox, real_limits, group, staff, chat_as
):
    """Issue 13, item 2 (the relay's side): one resident sending 30 messages in a second
    delayed another resident's message to staff and a staff answer to a third by minutes.
    Now: the staff answer arrives at once, the other resident's message reaches their topic
    at once, and the flood is a burst of copies (5 here, with the first question), then one
    digest with every remaining text; Telegram's limit of 20 a minute for the group is never
    hit."""
    services = real_limits
    sandbox.limit_groups(per_minute=20)
    flood, amal, olga = chat_as("de", "Flut"), chat_as("ar", "Amal"), chat_as("ru", "Olga")
    for chat, text in ((flood, "Erste Frage"), (amal, "سؤال"), (olga, "Вопрос")):
        await request(services, chat, text, "Debt")
    cases = [await case_topic(sandbox, services, i) for i in (1, 2, 3)]
    texts = [f"Flut {i}" for i in range(30)]
    for text in texts:
        await sandbox.send_message(flood.user, text)
    seen = amal.seen()
    started = time.monotonic()
    await sandbox.send_message(
        staff[0], "Antwort", chat=group, message_thread_id=cases[1].thread_id
    )
    await sandbox.send_message(olga.user, "Noch eine Frage")
    await sandbox.wait_for_message(amal.id, after=seen, timeout=10)
    answered = time.monotonic() - started

    async def in_olgas_topic():
        return "Noch eine Frage" in [
            m.text for m in topic_messages(sandbox, group, cases[2].thread_id)
        ]

    await eventually(in_olgas_topic, within=10)
    relayed = time.monotonic() - started
    assert answered < 5 and relayed < 5

    def lines():
        """Each copy, and each line of a digest, as the topic shows them."""
        shown = [m.text or "" for m in topic_messages(sandbox, group, cases[0].thread_id)]
        return shown, [line for text in shown for line in text.split("\n")]

    async def everything_there():
        shown, all_lines = lines()
        return all(t in shown or any(x.endswith(f" {t}") for x in all_lines) for t in texts)

    await eventually(everything_there, within=30)
    shown, _ = lines()
    copies = [s for s in shown if s in texts]
    digests = [s for s in shown if s.startswith("📨")]
    # The burst: at least 4 copies one by one ("Erste Frage" took the 5th place; a place
    # comes back every 5 s), then the rest in order in the digest(s), each text once.
    assert len(copies) >= 4 and copies == texts[: len(copies)] and digests
    lines = [x for d in digests for x in d.split("\n")[2:]]
    assert [x.rsplit(" ", 2)[-2:] for x in lines] == [t.split(" ") for t in texts[len(copies) :]]
    assert sandbox.send_fault_counts["group-429"] == 0


async def test_an_uncertain_broadcast_message_is_counted_and_sent_again_on_request(
    sandbox, bot, chat_as
):
    """Issue 13, item 5 (in-process): a message whose answer was lost counts as uncertain, not
    as sent; the finished progress says so and offers to send it again to exactly those."""
    residents = [chat_as("de", f"R{i}") for i in range(3)]
    for chat in residents:
        await subscribe(bot, chat, "all")
    admin = Chat(sandbox, sandbox.add_user(first_name="Admin", user_id=ADMIN_ID))
    await admin.send("/start")
    await admin.send("/broadcast")
    districts = await admin.send("Heute ist die Kontaktstelle geschlossen.")
    translations = await admin.press_data(districts, "ne:d:all")
    preview = await admin.press_data(translations, "ne:pv:de")
    # The answer to one resident's announcement is lost (the message does arrive).
    sandbox.lose_next("sendMessage", mode="reset", chat_id=residents[1].id)
    await admin.press_data(preview, "ne:publish")

    async def finished():
        await sandbox.wait_for_idle()
        last = admin.last()
        return last.text.startswith("✅") and last

    progress = await eventually(finished, within=15)
    assert "3 von 3 gesendet" not in progress.text
    assert "2 von 3 gesendet" in progress.text and "1 ungewiss" in progress.text
    got = [
        sum("geschlossen" in (m.text or "") for m in sandbox.messages_to(c.id)) for c in residents
    ]
    assert sorted(got) == [1, 1, 1]  # the lost answer's message did arrive, once
    await admin.press_data(progress, progress.buttons[0][0]["callback_data"])
    progress = await eventually(finished, within=15)
    assert "3 von 3 gesendet" in progress.text and "0 ungewiss" in progress.text
    got = [
        sum("geschlossen" in (m.text or "") for m in sandbox.messages_to(c.id)) for c in residents
    ]
    assert sorted(got) == [1, 1, 2]  # staff chose the second copy for the uncertain one


async def test_an_uncertain_digest_is_one_line_and_send_again_sends_every_message_of_it(
    sandbox, real_limits, group, staff, chat_as
):
    """A digest is one message for many copies: when Telegram's answer to it is lost, staff get
    one line (not one per copy), and "send again" sends all of them again."""
    services = real_limits
    flood = chat_as("de", "Flut")
    await request(services, flood, "Erste Frage", "Debt")
    (case,) = [await case_topic(sandbox, services, 1)]
    texts = [f"Flut {i}" for i in range(12)]
    # The burst (4 copies with the first question) goes; the digest's answer is lost.
    sandbox.lose_next("sendMessage", mode="reset", chat_id=group.id)
    for text in texts:
        await sandbox.send_message(flood.user, text)

    def shown():
        return topic_messages(sandbox, group, case.thread_id)

    async def line_there():
        lines = [m for m in shown() if any(b.get("callback_data", "").startswith("out:again:")
                 for r in m.buttons for b in r)]  # fmt: skip
        return lines

    (line,) = await eventually(line_there, within=20)
    assert "Hier fehlt möglicherweise eine Nachricht" in line.text
    digests = [m for m in shown() if (m.text or "").startswith("📨")]
    assert len(digests) == 1  # it did arrive, Telegram's answer did not
    await Chat(sandbox, staff[0]).press_data(line, line.buttons[0][0]["callback_data"])

    async def all_again():
        again = [m for m in shown() if (m.text or "").startswith("📨")]
        lines = [x for m in again[1:] for x in (m.text or "").split("\n")]
        copies = [m.text for m in shown()]
        return all(t in copies[4:] or any(x.endswith(f" {t}") for x in lines) for t in texts[4:])

    await eventually(all_again, within=20)


async def test_without_a_staff_group_cases_go_to_the_queue_and_nothing_edits_a_topic(
    sandbox, bot, chat_as, caplog
):
    """No THINKA_STAFF_CHAT_ID: the confirmation comes through the courier all the same, and no
    topic upkeep runs (it used to fail on every change, in the log)."""
    dana = chat_as("de", "Dana")
    await to_the_question(dana, bot, "Housing search")
    confirmation = await dana.ask("Wir suchen eine größere Wohnung.")
    assert "#1" in confirmation.text
    await sandbox.wait_for_idle()
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


async def test_an_answer_deleted_before_it_could_be_copied_is_reported_where_staff_wrote(
    sandbox, services, group, staff, chat_as
):
    """A permanent refusal (the message to copy is gone) is not retried for ever: staff are told
    in the topic, and the resident gets nothing half-done."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    sandbox.start_outage(methods=frozenset({"copyMessage"}))
    sent = await sandbox.send_message(
        staff[0], "Gleich wieder gelöscht", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_idle()
    sandbox.delete_by_user(group.id, sent["message_id"])
    sandbox.end_outage()
    nudge(services)
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    reports = [
        m.text for m in topic_messages(sandbox, group, case.thread_id) if "⚠️" in (m.text or "")
    ]
    assert len(reports) == 1 and "message to copy not found" in reports[0].lower()
    (message,) = [m for m in await services.cases.repo.messages(1) if m.direction == "out"]
    assert message.relay_status == "failed"


async def test_nothing_queued_for_a_resident_is_sent_after_they_deleted_their_data(
    sandbox, services, group, staff, chat_as
):
    """An answer waits out a bad minute at Telegram; meanwhile the resident deletes their data.
    It must not reach them afterwards, and no queued row may keep their id or chat."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    sandbox.start_outage(methods=frozenset({"copyMessage"}))
    await sandbox.send_message(
        staff[0], "Antwort, die warten muss", chat=group, message_thread_id=case.thread_id
    )
    await sandbox.wait_for_idle()
    assert await services.db.fetchall("SELECT 1 FROM outgoing WHERE chat_id = ?", (amal.id,))
    question = await amal.send("/delete")
    await amal.press_data(question, "privacy:delete:yes")
    sandbox.end_outage()
    nudge(services)
    await sandbox.wait_for_idle()
    assert "Antwort, die warten muss" not in [m.text for m in sandbox.messages_to(amal.id)]
    left = await services.db.fetchall(
        "SELECT id FROM outgoing WHERE chat_id = ? OR resident_id = ? OR key LIKE ?",
        (amal.id, amal.id, f"%{amal.id}%"),
    )
    assert left == []


async def test_stopping_waits_for_the_request_under_way_and_not_a_moment_longer(
    sandbox, services, chat_as
):
    """Found through a 5 s teardown: a finished request did not wake the courier's loop, so
    stop() slept out its whole grace whenever a request was under way when it was called."""
    from bot.core.outgoing import Envelope, Text, to_chat

    amal = chat_as("ar", "Amal")
    await agree(amal, await amal.send("/start"))
    seen = amal.seen()
    sandbox.set_latency(0.4)
    await services.courier.send(Envelope(to_chat(amal.id), Text("قيد الإرسال"), key="stop-test"))

    async def under_way():
        return sandbox._inflight > 0

    await eventually(under_way)
    started = time.monotonic()
    await services.courier.stop()
    assert time.monotonic() - started < 2.0  # the request's 0.4 s, not the 5 s grace
    assert [m.text for m in sandbox.messages_to(amal.id)[seen:]] == ["قيد الإرسال"]
    sandbox.set_latency(0)
