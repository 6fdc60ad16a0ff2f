"""Quick answers against the sandbox: offered before a request goes to staff, browsable from the
menu, counted for staff, reloadable by staff."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from datetime import date

from bot.app import SERVICES_KEY, running
from bot.cases.cards import card_text
from bot.reporting.text import text_report
from bot.selfhelp.content import CONTENT_DIR
from handlers.shared import keyboards
from tests.conftest import ADMIN_ID, agree, make_application


def _data(message) -> list[str]:
    return [b.get("callback_data") for row in message.buttons for b in row]


async def _write_request(chat, topic: str, text: str):
    """Menu → ask → topic → district → the text; returns the bot's answer to the text."""
    menu = await agree(chat, await chat.send("/start"))
    topics = await chat.press_data(menu, keyboards.MENU_ASK)
    districts = await chat.press_data(topics, keyboards.REQUEST_TOPIC_PREFIX + topic)
    prompt = await chat.press_data(districts, keyboards.REQUEST_DISTRICT_PREFIX + "1")
    # The prompt already offers the topic's first answers.
    assert any(d.startswith("sh:o:") for d in _data(prompt))
    started = time.monotonic()
    reply = await chat.send(text)
    return reply, time.monotonic() - started


async def test_arabic_with_spelling_variants_gets_answers_and_that_helped_ends_there(
    sandbox, bot, chat_as
):
    amal = chat_as("ar", "Amal")
    t = bot.i18n.translator("ar")
    # "A letter from the Jobcenter, they want papers", typed without hamza and with ه for ة.
    reply, took = await _write_request(amal, "job", "وصلتني رساله من الجوب سنتر يطلبون اوراق")
    assert took < 1.0
    assert t._("Maybe one of these answers helps you right away:") in reply.text
    offered = [d.removeprefix("sh:o:") for d in _data(reply) if d.startswith("sh:o:")]
    assert 1 <= len(offered) <= 3 and offered[0].startswith("job-")
    answer = await amal.press_data(reply, "sh:o:" + offered[0])
    content = bot.content.current
    assert content.answer(offered[0]).title["ar"] in answer.text
    assert "Jobcenter" in answer.text  # the German word stays recognisable
    assert t._("✍️ Ask a social worker") in answer.button_texts
    done = await amal.press_data(answer, "sh:h:" + offered[0])
    assert t._("Glad it helped! You can ask us anything at any time from the menu.") in done.text
    # The draft and what she wrote are gone; staff never see it; only counts remain.
    assert await bot.cases.repo.current_for(amal.id) is None
    row = await bot.db.fetchone("SELECT COUNT(*) FROM case_messages")
    assert row[0] == 0
    figures = {
        f.answer_id: f for f in await bot.selfhelp.figures(date(2026, 1, 1), date(2027, 1, 1))
    }
    assert figures[offered[0]].suggested == 1 and figures[offered[0]].opened == 1
    assert figures[offered[0]].helped == 1 and figures[offered[0]].asked == 0


async def test_russian_with_yo_or_e_asks_anyway_and_nothing_is_typed_twice(sandbox, bot, chat_as):
    olga = chat_as("ru", "Olga")
    t = bot.i18n.translator("ru")
    text = "пришел счет за свет, денег нет, говорят отключат электричество"  # е for ё
    reply, _ = await _write_request(olga, "debt", text)
    offered = [d.removeprefix("sh:o:") for d in _data(reply) if d.startswith("sh:o:")]
    assert "debt-stromsperre" in offered
    # Reading one and going back keeps the offer.
    answer = await olga.press_data(reply, "sh:o:debt-stromsperre")
    back = await olga.press_data(answer, "sh:b:debt-stromsperre")
    assert _data(back)[: len(offered)] == ["sh:o:" + a for a in offered]
    confirmation = await olga.press_data(back, "sh:a")
    assert t._("Thank you! Your request %(number)s has been received.").split("%")[0] in (
        confirmation.text
    )
    case = await bot.cases.current_open_case(await bot.residents.find(olga.id))
    messages = await bot.cases.repo.messages(case.id)
    assert [m.text for m in messages] == [text]  # carried into the case, once
    assert case.suggested and "debt-stromsperre" in case.suggested
    # Staff see what was offered on the case card.
    assert "debt-stromsperre" in card_text(bot.i18n.translator("de"), case)
    seen = await bot.selfhelp.for_case(case.id)
    assert seen["debt-stromsperre"] == {"suggested", "opened", "asked"}


async def test_german_mahnung_and_a_question_that_matches_nothing(sandbox, bot, chat_as):
    erika = chat_as("de", "Erika")
    reply, took = await _write_request(erika, "debt", "Ich habe eine Mahnung bekommen, was nun?")
    assert took < 1.0
    assert _data(reply)[0] == "sh:o:debt-mahnung"
    answer = await erika.press_data(reply, "sh:o:debt-mahnung")
    assert "Mahnung" in answer.text
    # A new question that matches no answer goes straight to staff.
    menu = await erika.send("/menu")
    topics = await erika.press_data(menu, keyboards.MENU_ASK)
    prompt = await erika.press_data(topics, keyboards.REQUEST_TOPIC_PREFIX + "other")
    assert "sh:a" not in _data(prompt)
    confirmation = await erika.send("Können Sie mich bitte zurückrufen?")
    assert "#" in confirmation.text and "sh:a" not in _data(confirmation)


async def test_browsing_menu_information_topic_answer_and_back(sandbox, bot, chat_as):
    uk = chat_as("uk", "Oksana")
    t = bot.i18n.translator("uk")
    menu = await agree(uk, await uk.send("/start"))
    assert t._("💡 Quick answers") in menu.button_texts
    topics = await uk.press_data(menu, keyboards.MENU_INFO)
    assert len([d for d in _data(topics) if d.startswith("sh:t:")]) == 6
    questions = await uk.press_data(topics, "sh:t:housing")
    ids = [d.removeprefix("sh:o:") for d in _data(questions) if d.startswith("sh:o:")]
    assert len(ids) >= 8
    answer = await uk.press_data(questions, "sh:o:" + ids[0])
    assert bot.content.current.answer(ids[0]).text["uk"][:40] in answer.text
    back = await uk.press_data(answer, "sh:b:" + ids[0])
    assert _data(back) == _data(questions)
    # "Ask a social worker" from an answer starts a request on that answer's topic.
    answer = await uk.press_data(back, "sh:o:" + ids[1])
    step = await uk.press_data(answer, "sh:a:" + ids[1])
    case = await bot.cases.repo.current_for(uk.id)
    assert case.status == "draft" and case.topic == "housing"
    assert any(d.startswith(keyboards.REQUEST_DISTRICT_PREFIX) for d in _data(step))


async def test_forged_or_removed_answer_ids_get_a_friendly_answer(sandbox, bot, chat_as):
    chat = chat_as("en", "Sam")
    t = bot.i18n.translator("en")
    menu = await agree(chat, await chat.send("/start"))
    query = await sandbox.press_button(chat.user, menu, "sh:h:no-such-answer", forge=True)
    await sandbox.wait_for_idle()
    assert t._("This answer is no longer available.") in chat.last().text
    assert [a for a in sandbox.callback_answers if a.get("callback_query_id") == query["id"]]


async def test_staff_reload_content_and_a_broken_file_keeps_the_old(
    sandbox, settings, clock, chat_as, tmp_path
):
    folder = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, folder)
    application = make_application(replace(settings, content_path=folder), clock)
    async with running(application):
        services = application.bot_data[SERVICES_KEY]
        admin = chat_as("de", "Admin", user_id=ADMIN_ID)
        mallory = chat_as("de", "Mallory")
        t = services.i18n.translator("de")
        await admin.send("/start")
        # A resident cannot reload: the unknown-command answer.
        await agree(mallory, await mallory.send("/start"))
        refused = await mallory.send("/reload")
        assert "Content" not in refused.text and "Inhalte" not in refused.text
        before = services.content.current

        debt = folder / "faq" / "debt.toml"
        debt.write_text(debt.read_text(encoding="utf-8").replace("\nuk = ", "\nxx = ", 1))
        answer = await admin.send("/reload")
        assert "NICHT" in answer.text and "debt.toml" in answer.text
        assert services.content.current is before

        shutil.copy(CONTENT_DIR / "faq" / "debt.toml", debt)
        other = folder / "faq" / "other.toml"
        other.write_text(
            other.read_text(encoding="utf-8").replace('id = "other-', 'id = "other-neu-', 1),
            encoding="utf-8",
        )
        answer = await admin.send("/reload")
        total = len(services.content.current.answers)
        assert (
            t._("Content reloaded: %(answers)d answers, %(services)d Wegweiser entries.")
            % {
                "answers": total,
                "services": len(services.content.current.services),
            }
            in answer.text
        )
        assert any(a.id.startswith("other-neu-") for a in services.content.current.answers)


async def test_the_report_counts_quick_answers(sandbox, bot, chat_as):
    erika = chat_as("de", "Erika")
    reply, _ = await _write_request(erika, "debt", "Ich habe eine Mahnung bekommen")
    await erika.press_data(reply, "sh:a")
    report = await bot.reports.report(date(2026, 12, 1), date(2026, 12, 31), bot.settings.timezone)
    assert report.figures["selfhelp_suggested"] >= 1
    assert report.figures["selfhelp_asked"] == report.figures["selfhelp_suggested"]
    assert report.figures["selfhelp_helped"] == 0
    assert "Kurzantworten: trotzdem gefragt: " in text_report(report)


async def test_a_request_left_at_the_quick_answers_is_discarded_after_a_month(
    sandbox, bot, chat_as, clock
):
    from datetime import timedelta

    from bot.privacy.retention import Retention

    olga = chat_as("ru", "Olga")
    reply, _ = await _write_request(olga, "debt", "пришло напоминание об оплате, Mahnung")
    assert "sh:a" in _data(reply)  # she never answers the offer
    retention = Retention(bot.personal_data, bot.erasure, bot.relay, clock, 180)
    clock.advance(timedelta(days=29))
    await retention.run()
    assert (await bot.cases.repo.current_for(olga.id)).status == "draft"
    clock.advance(timedelta(days=2))
    await retention.run()
    assert await bot.cases.repo.current_for(olga.id) is None
    assert (await bot.db.fetchone("SELECT COUNT(*) FROM case_messages"))[0] == 0
