# ruff: noqa: F811  (the staff group fixtures are imported from test_cases_e2e)
"""Conversations across languages end to end: residents write Arabic, Russian and Ukrainian, a
social worker answers in German in the case topic, each reads their own language with the
original beside it — through the real Application, the Bot API sandbox and fakes of the three
translation APIs on loopback (bot/sandbox/translators.py). Failures of the provider never
hold a message back and never make a second copy."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.app import SERVICES_KEY, running
from bot.core.i18n import FSI, PDI
from bot.sandbox.translators import FakeDeepL, FakeLibreTranslate, FakeOpenAIChat
from bot.transport.courier import Limits
from tests.conftest import ADMIN_ID, Chat, eventually, make_application
from tests.test_cases_e2e import (  # the staff group fixtures, shared
    case_topic,
    group,  # noqa: F401
    request,
    staff,  # noqa: F401
    staff_settings,  # noqa: F401
    topic_messages,
)

QUESTION_AR = "عندي رسالة Mahnung من Jobcenter"
QUESTION_AR_DE = "Ich habe eine Mahnung vom Jobcenter bekommen"
ANSWER_DE = "Bitte bringen Sie den Brief am 03.12.2026 um 10:30 Uhr mit."
ANSWER_AR = "يرجى إحضار الرسالة في 03.12.2026 الساعة 10:30 Uhr."


@contextlib.asynccontextmanager
async def translating(staff_settings, clock, fake, kind: str, **extra):
    """The bot with a staff group and `kind` as its translator (the fake `fake`)."""
    settings = replace(
        staff_settings,
        translate_provider=kind,
        translate_url=fake.url,
        translate_timeout=extra.pop("timeout", 1.0),
        **extra,
    )
    application = make_application(settings, clock)
    async with running(application):
        yield application.bot_data[SERVICES_KEY]


@pytest.fixture
async def libre():
    async with FakeLibreTranslate() as fake:
        fake.phrasebook[("ar", "de", QUESTION_AR)] = QUESTION_AR_DE
        fake.phrasebook[("de", "ar", ANSWER_DE)] = ANSWER_AR
        yield fake


@pytest.fixture
async def services(staff_settings, clock, libre):
    async with translating(staff_settings, clock, libre, "libretranslate") as services:
        yield services


async def answer(sandbox, group, staff_member, case, text: str, chat) -> object:
    """A staff member writes `text` in the case's topic; the resident's new message."""
    before = chat.seen()
    await sandbox.send_message(staff_member, text, chat=group, message_thread_id=case.thread_id)
    return await sandbox.wait_for_message(chat.id, after=before)


async def receipt(sandbox, group, case, services):
    """The topic's last message once everything is delivered."""
    await services.courier.settled()
    await sandbox.wait_for_idle()
    return topic_messages(sandbox, group, case.thread_id)[-1]


async def test_an_arabic_conversation_both_ways_with_originals_beside(
    sandbox, services, group, chat_as, staff, libre
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    copy = topic_messages(sandbox, group, case.thread_id)[1]
    # One message: the German, labelled with the language, and the Arabic quoted below.
    assert copy.text.startswith("🌐 maschinell übersetzt aus dem Arabischen\n\n")
    assert QUESTION_AR_DE in copy.text and copy.text.endswith(QUESTION_AR)
    assert any(e["type"] == "blockquote" for e in copy.entities)
    assert len(topic_messages(sandbox, group, case.thread_id)) == 2  # card and the one copy

    reply = await answer(sandbox, group, staff[0], case, ANSWER_DE, amal)
    t = services.i18n.translator("ar")
    # Arabic first, the date and the time kept and isolated, the German original beneath.
    assert reply.text.startswith(
        f"يرجى إحضار الرسالة في {FSI}03.12.2026{PDI} الساعة {FSI}10:30 Uhr{PDI}."
    )
    assert t._("Machine translation. What the social worker wrote in German:") in reply.text
    assert reply.text.endswith(ANSWER_DE)
    told = await receipt(sandbox, group, case, services)
    assert told.text.startswith("🌐 Maschinell ins Arabische übersetzt gesendet:")
    assert "يرجى إحضار الرسالة" in told.text
    assert len(libre.translations()) == 2  # each text once

    # /queue's case view shows what the topic shows, without asking the provider again.
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    queue = await admin.send("/queue")
    view = await admin.press(queue, queue.button_texts[0])
    read_from = admin.seen()
    await admin.press(view, "📖 Nachrichten lesen")
    shown = [m.text for m in sandbox.messages_to(admin.id)[read_from:]]
    (resident,) = [text for text in shown if text.startswith("Ratsuchende Person")]
    assert "🌐 maschinell übersetzt aus dem Arabischen" in resident
    assert QUESTION_AR_DE in resident and resident.endswith(QUESTION_AR)
    assert len(libre.translations()) == 2


async def test_russian_resident_writing_arabic_and_deepl_answers(
    sandbox, staff_settings, clock, group, chat_as, staff
):
    async with (
        FakeDeepL() as deepl,
        translating(staff_settings, clock, deepl, "deepl", translate_key=deepl.api_key) as services,
    ):
        deepl.phrasebook[("ru", "de", "Нужна помощь с Wohngeld")] = "Ich brauche Hilfe mit Wohngeld"
        deepl.phrasebook[("ar", "de", "شكرا جزيلا")] = "Vielen Dank"
        deepl.phrasebook[("de", "ru", "Rufen Sie 0361 1234567 an.")] = "Позвоните 0361 1234567."
        olga = chat_as("ru", "Olga")
        await request(services, olga, "Нужна помощь с Wohngeld", "Housing search")
        case = await case_topic(sandbox, services, 1)
        copy = topic_messages(sandbox, group, case.thread_id)[1]
        assert copy.text.startswith("🌐 maschinell übersetzt aus dem Russischen\n\n")
        assert "Ich brauche Hilfe mit Wohngeld" in copy.text  # the term kept

        reply = await answer(sandbox, group, staff[0], case, "Rufen Sie 0361 1234567 an.", olga)
        assert reply.text.startswith("Позвоните 0361 1234567.")
        assert reply.text.endswith("Rufen Sie 0361 1234567 an.")

        # Set to Russian, writing Arabic: translated from Arabic, and staff are told.
        await sandbox.send_message(olga.user, "شكرا جزيلا")

        async def thanked():
            messages = topic_messages(sandbox, group, case.thread_id)
            return [m for m in messages if "Vielen Dank" in (m.text or "")]

        (thanks,) = await eventually(thanked)
        assert thanks.text == (
            "🌐 maschinell übersetzt aus dem Arabischen (erkannt; eingestellt ist Russisch)"
            "\n\nVielen Dank\n\nشكرا جزيلا"
        )


async def test_ukrainian_case_with_a_language_model_and_photos_both_ways(
    sandbox, staff_settings, clock, group, chat_as, staff
):
    async with (
        FakeOpenAIChat() as model,
        translating(
            staff_settings, clock, model, "openai", translate_model="llama3.1:8b"
        ) as services,
    ):
        model.phrasebook[("uk", "de", "Дякую, ось лист")] = "Danke, hier ist der Brief"
        model.phrasebook[("de", "uk", "Bitte unterschreiben Sie hier.")] = (
            "Будь ласка, підпишіть тут."
        )
        model.phrasebook[("uk", "de", "Питання щодо житла")] = "Frage zur Wohnung"
        oksana = chat_as("uk", "Oksana")
        await request(services, oksana, "Питання щодо житла", "Housing search")
        case = await case_topic(sandbox, services, 1)
        # A photo with a caption: the copy as it is, the translated caption answering it.
        await sandbox.send_photo(oksana.user, caption="Дякую, ось лист")

        async def beside():
            messages = topic_messages(sandbox, group, case.thread_id)
            return [m for m in messages if "Danke, hier ist der Brief" in (m.text or "")]

        (caption,) = await eventually(beside)
        photo = next(m for m in topic_messages(sandbox, group, case.thread_id) if m.kind == "photo")
        assert photo.caption == "Дякую, ось лист"  # the copy stays as it is
        assert caption.raw["reply_to_message"]["message_id"] == photo.message_id
        assert "maschinell übersetzt aus dem Ukrainischen" in caption.text

        # Staff send a photo with a German caption: the resident's copy carries both.
        before = oksana.seen()
        await sandbox.send_photo(
            staff[1],
            caption="Bitte unterschreiben Sie hier.",
            chat=group,
            message_thread_id=case.thread_id,
        )
        copy = await sandbox.wait_for_message(oksana.id, after=before)
        assert copy.kind == "photo"
        assert copy.caption.startswith("Будь ласка, підпишіть тут.")
        assert copy.caption.endswith("Bitte unterschreiben Sie hier.")
        told = await receipt(sandbox, group, case, services)
        assert told.text.startswith("🌐 Maschinell ins Ukrainische übersetzt gesendet:")


async def test_outage_delivers_the_original_at_once_and_never_a_second_copy(
    sandbox, services, group, chat_as, staff, libre
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    libre.fail_next(500, times=2)
    reply = await answer(sandbox, group, staff[0], case, ANSWER_DE, amal)
    t = services.i18n.translator("ar")
    assert reply.text.startswith(
        "🌐 " + t._("A translation is not available right now; this is the original in German.")
    )
    assert reply.text.endswith(ANSWER_DE)
    told = await receipt(sandbox, group, case, services)
    assert told.text.startswith(
        "⚠️ Übersetzung fehlgeschlagen (Dienst nicht erreichbar): auf Deutsch gesendet"
    )
    # The provider is back: nothing more reaches Amal for that answer, whatever runs again.
    seen = amal.seen()
    services.translation._paused_until = 0.0
    services.clock.advance(timedelta(minutes=10))
    services.courier.kick()
    await services.courier.settled()
    await sandbox.wait_for_idle()
    assert amal.seen() == seen
    assert len(libre.translations()) == 2  # the question, and the answer's one failed try


async def test_quota_used_up_sends_the_resident_text_as_written(
    sandbox, staff_settings, clock, group, chat_as, staff
):
    async with (
        FakeDeepL(character_limit=40) as deepl,
        translating(staff_settings, clock, deepl, "deepl", translate_key=deepl.api_key) as services,
    ):
        olga = chat_as("ru", "Olga")
        question = "Мне пришло письмо из Jobcenter, и я не понимаю, что нужно делать"
        await request(services, olga, question, "Debt")
        case = await case_topic(sandbox, services, 1)
        copy = topic_messages(sandbox, group, case.thread_id)[1]
        assert copy.text.startswith(
            "⚠️ Übersetzung fehlgeschlagen (Kontingent aufgebraucht). Das Original:"
        )
        assert copy.text.endswith(question)
        assert len(topic_messages(sandbox, group, case.thread_id)) == 2


async def test_the_raw_prefix_sends_german_as_written(
    sandbox, services, group, chat_as, staff, libre
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    asked = len(libre.translations())
    reply = await answer(sandbox, group, staff[0], case, "!Termin am 3.12. um 10 Uhr", amal)
    assert reply.text == "Termin am 3.12. um 10 Uhr"
    told = await receipt(sandbox, group, case, services)
    assert told.text == "✉️ Unübersetzt gesendet, genau wie geschrieben."
    assert len(libre.translations()) == asked  # nothing went to the provider


async def test_a_retried_answer_reuses_its_translation(
    sandbox, services, group, chat_as, staff, libre
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    sandbox.fail_next("sendMessage", status=500, times=1)
    before = amal.seen()
    await sandbox.send_message(staff[0], ANSWER_DE, chat=group, message_thread_id=case.thread_id)

    async def retried():
        services.clock.advance(timedelta(minutes=1))
        services.courier.kick()
        return amal.seen() > before

    await eventually(retried)
    await services.courier.settled()
    await sandbox.wait_for_idle()
    (reply,) = sandbox.messages_to(amal.id)[before:]
    assert reply.text.startswith("يرجى إحضار الرسالة")
    assert len([r for r in libre.translations() if r.body["target"] == "ar"]) == 1


async def test_a_resident_who_turned_translation_off_is_shown_as_written(
    sandbox, services, group, chat_as, staff, libre
):
    amal = chat_as("ar", "Amal")
    await request(services, amal, "سؤال", "Debt")
    case = await case_topic(sandbox, services, 1)
    await services.translation.set_own_messages(amal.id, False)
    await sandbox.send_message(amal.user, "سؤال آخر")

    async def copied():
        messages = topic_messages(sandbox, group, case.thread_id)
        return [m for m in messages if "آخر" in (m.text or "")]

    (copy,) = await eventually(copied)
    assert copy.text == (
        "🌐 Nicht übersetzt: Die Person hat die maschinelle Übersetzung ihrer Nachrichten"
        " abgeschaltet.\n\nسؤال آخر"
    )


async def test_send_again_after_an_uncertain_answer_sends_the_same_text(
    sandbox, services, group, chat_as, staff, libre
):
    """The translation failed and Telegram's answer was lost; when staff send it again the
    provider is back, yet the resident gets the same text, not a translation this time."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    seen = amal.seen()
    libre.fail_next(503)
    sandbox.lose_next("sendMessage", mode="reset", chat_id=amal.id)
    await sandbox.send_message(staff[0], ANSWER_DE, chat=group, message_thread_id=case.thread_id)
    first = await sandbox.wait_for_message(amal.id, after=seen)
    await services.courier.settled()
    await sandbox.wait_for_idle()

    async def uncertain():
        return [
            m
            for m in topic_messages(sandbox, group, case.thread_id)
            if any(
                b.get("callback_data", "").startswith("out:again:") for r in m.buttons for b in r
            )
        ]

    (line,) = await eventually(uncertain)
    services.translation._paused_until = 0.0  # the provider is back
    await Chat(sandbox, staff[0]).press_data(line, line.buttons[0][0]["callback_data"])
    await services.courier.settled()
    await sandbox.wait_for_idle()
    assert [m.text for m in sandbox.messages_to(amal.id)[seen:]] == [first.text, first.text]
    assert ANSWER_AR not in first.text


async def test_a_digest_shows_each_text_translated_with_its_original(
    sandbox, staff_settings, clock, group, chat_as, libre
):
    """A resident who writes faster than the group's budget: the held-back texts arrive as
    one digest, each line the German with the original in italics below it."""
    settings = replace(
        staff_settings,
        translate_provider="libretranslate",
        translate_url=libre.url,
        translate_timeout=1.0,
    )
    application = make_application(
        settings, clock, limits=Limits(sender_burst=2, sender_interval=1.0)
    )
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        amal = chat_as("ar", "Amal")
        await request(services, amal, QUESTION_AR, "Debt")
        case = await case_topic(sandbox, services, 1)
        texts = [f"سؤال رقم {number}" for number in range(6)]
        for text in texts:
            await sandbox.send_message(amal.user, text)

        async def digest():
            shown = [m.text or "" for m in topic_messages(sandbox, group, case.thread_id)]
            return [text for text in shown if text.startswith("📨")]

        (first, *_) = await eventually(digest, within=20)
        assert "🌐 maschinell ins Deutsche übersetzt, das Original kursiv darunter" in first
        lines = first.split("\n")
        shown = [text for text in texts if f"🌐 [ar→de] {text}" in first]
        assert shown  # each held-back text: its German line, then the original below it
        for text in shown:
            german = next(i for i, line in enumerate(lines) if line.endswith(f"[ar→de] {text}"))
            assert lines[german + 1] == text


async def test_erasure_removes_the_translations_and_what_carried_them(
    sandbox, services, group, chat_as, staff, staff_settings
):
    """A resident's /delete takes the translations with it: the stored ones (both ways), the
    topic's receipt queued with one, and nothing of their words stays in the database file."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    await answer(sandbox, group, staff[0], case, ANSWER_DE, amal)
    await receipt(sandbox, group, case, services)
    count = "SELECT COUNT(*) FROM message_translations"
    assert (await services.db.fetchone(count))[0] == 2
    receipts = "SELECT COUNT(*) FROM outgoing WHERE key LIKE 'receipt:%'"
    assert (await services.db.fetchone(receipts))[0] == 1
    question = await amal.send("/delete")
    await amal.press_data(question, "privacy:delete:yes")

    async def erased():
        return not services.erasure.pending

    await eventually(erased, within=20)
    assert (await services.db.fetchone(count))[0] == 0
    assert (await services.db.fetchone(receipts))[0] == 0
    files = [staff_settings.db_path, staff_settings.db_path.with_name("thinka.sqlite3-wal")]
    content = b"".join(path.read_bytes() for path in files if path.exists())
    assert QUESTION_AR_DE.encode() not in content
    assert "يرجى إحضار الرسالة".encode() not in content


async def test_long_texts_arrive_whole_in_several_messages_and_canned_replies_never_go_out(
    sandbox, services, group, chat_as, staff, libre
):
    """A text whose translation and original do not fit one message goes as several, in
    order, nothing cut; a canned reply (/t) comes from the catalogs, never from the machine."""
    amal = chat_as("ar", "Amal")
    await request(services, amal, QUESTION_AR, "Debt")
    case = await case_topic(sandbox, services, 1)
    long_ar = " ".join(f"كلمة{n}" for n in range(500))  # about 3400 characters
    before = len(topic_messages(sandbox, group, case.thread_id))
    await sandbox.send_message(amal.user, long_ar)

    async def arrived():
        texts = [m.text for m in topic_messages(sandbox, group, case.thread_id)[before:]]
        # Whole when the last word has come twice: in the German and in the quoted original.
        return texts if "\n".join(texts).count("كلمة499") >= 2 else None

    texts = await eventually(arrived)
    assert len(texts) >= 2 and texts[0].startswith("🌐 maschinell übersetzt aus dem Arabischen")
    joined = "\n".join(texts)
    assert all(joined.count(f"كلمة{n} ") >= 2 for n in (0, 250, 498))  # German line and quote

    long_de = " ".join(f"Wort{n}" for n in range(700))  # about 5500 characters translated
    seen = amal.seen()
    await sandbox.send_message(staff[0], long_de, chat=group, message_thread_id=case.thread_id)
    await receipt(sandbox, group, case, services)
    parts = [m.text for m in sandbox.messages_to(amal.id)[seen:]]
    assert len(parts) >= 2 and parts[-1].endswith("Wort699")
    assert all(" ".join(parts).count(f"Wort{n} ") >= 2 for n in (0, 350))  # both, whole

    asked = len(libre.translations())
    seen = amal.seen()
    await sandbox.send_message(
        staff[0], "/t bring_letter", chat=group, message_thread_id=case.thread_id
    )
    canned = await sandbox.wait_for_message(amal.id, after=seen)
    assert canned.text == services.org.template("bring_letter").text("ar")
    await receipt(sandbox, group, case, services)
    assert len(libre.translations()) == asked
