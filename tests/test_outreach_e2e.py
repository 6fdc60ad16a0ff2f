"""Posters' deep links end to end: `/start rieth-ar-treppenhaus-2027` starts onboarding in Arabic,
Rieth is stored when the resident agrees (not before) and not asked again, and the link is
counted once, anonymously, for the report. A foreign payload changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from bot.cases.cards import TOPIC_LABELS
from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES
from bot.reporting.report import ReportRepository
from tests.conftest import agree

pytestmark = pytest.mark.usefixtures("bot")

DAY = date(2026, 12, 1)  # the frozen clock's day


async def by_link(bot) -> dict[str, int]:
    report = await ReportRepository(bot.db).report(DAY, DAY, bot.settings.timezone)
    return report.breakdowns["residents_by_link"]


async def stored_before_consent(bot, user_id: int) -> set[str]:
    row = await bot.db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
    return {key for key in row.keys() if row[key] not in (None, 0)}


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_posters_link_sets_language_and_district_and_is_counted(bot, chat_as, language):
    t = bot.i18n.translator(language)
    # Telegram is set to another language: the link's language wins for onboarding.
    chat = chat_as("en" if language == "de" else "de")
    payload = f"rieth-{language}-treppenhaus-2027"
    notice = await chat.send(f"/start {payload}")
    assert t._("Do you agree?") in notice.text
    # Before consent: id, chat and language only; the district rides on the button.
    assert await stored_before_consent(bot, chat.id) == {"user_id", "chat_id", "language"}
    agree_data = notice.callback_data(t._("✅ I agree"))
    assert agree_data.startswith("consent:agree:") and len(agree_data.encode()) <= 64
    assert await by_link(bot) == {"–": 0}
    opt_in = await chat.press(notice, t._("✅ I agree"))
    await chat.press(opt_in, t._("No, thank you"))
    resident = await bot.residents.find(chat.id)
    assert resident.language == language and resident.district == "Rieth" and resident.consented
    assert (await by_link(bot)).get(payload) == 1
    # Nothing about the resident goes with the count.
    rows = await bot.db.fetchall("SELECT * FROM outreach_counts")
    assert [tuple(r) for r in rows] == [(1, "2026-12-01", 1)]


async def test_the_resident_from_the_poster_is_not_asked_for_the_district(bot, chat_as):
    """The issue's 'done when': a poster for Rieth, scanned; Arabic, Rieth set, a request."""
    t = bot.i18n.translator("ar")
    chat = chat_as("de")
    notice = await chat.send("/start rieth-ar-treppenhaus-2027")
    menu = await chat.press(await chat.press(notice, t._("✅ I agree")), t._("No, thank you"))
    topics = await chat.press(menu, t._("✍️ Ask a question"))
    label = next(b for b in topics.button_texts if t._(TOPIC_LABELS["debt"]) in b)
    prompt = await chat.press(topics, label)
    assert t._("Which district do you live in?") not in prompt.text
    assert "📍 Rieth" not in prompt.button_texts
    await chat.ask("لدي رسالة تذكير من الدائن")
    case = (
        await bot.cases.repo.current_for(chat.id) or (await bot.cases.repo.for_resident(chat.id))[0]
    )
    assert case.district == "Rieth" and case.language == "ar"


@pytest.mark.parametrize(
    "payload",
    ["ref_12345", "moabit-ar-flyer", "rieth-ar-flyer!", "rieth-ar-Treppen_haus", "a" * 64, "-"],
)
async def test_a_foreign_payload_changes_nothing(bot, chat_as, payload):
    t = bot.i18n.translator("ru")
    chat = chat_as("ru")
    notice = await chat.send(f"/start {payload}")
    assert t._("Do you agree?") in notice.text  # greeted like anybody pressing Start
    assert notice.callback_data(t._("✅ I agree")) == "consent:agree"
    await agree(chat, notice)
    resident = await bot.residents.find(chat.id)
    assert resident.language == "ru" and resident.district is None
    assert await bot.db.fetchall("SELECT * FROM outreach_links") == []
    assert await by_link(bot) == {"–": 1}


async def test_the_language_stays_changeable_and_the_link_travels_with_it(bot, chat_as):
    chat = chat_as("de")
    ar, ru = bot.i18n.translator("ar"), bot.i18n.translator("ru")
    notice = await chat.send("/start berliner_platz-ar-stadtteilkonferenz")
    chooser = await chat.press(notice, ar._("🌐 Language"))
    assert chooser.button_texts == [LANGUAGE_NAMES[code] for code in LANGUAGES]
    notice = await chat.press(chooser, "Русский")
    assert ru._("Do you agree?") in notice.text
    # On to the contact page and back: still the link's notice.
    contact = await chat.press(notice, ru._("📍 Contact without Telegram"))
    notice = await chat.press(contact, ru._("⬅️ Back"))
    assert ru._("Do you agree?") in notice.text
    await chat.press(await chat.press(notice, ru._("✅ I agree")), ru._("No, thank you"))
    resident = await bot.residents.find(chat.id)
    assert (resident.language, resident.district) == ("ru", "Berliner Platz")
    assert (await by_link(bot)).get("berliner_platz-ar-stadtteilkonferenz") == 1


async def test_a_link_without_a_language_on_an_unknown_telegram_language_keeps_the_district(
    bot, chat_as
):
    chat = chat_as("fr")
    chooser = await chat.send("/start rieth-flyer")
    assert await bot.residents.find(chat.id) is None
    notice = await chat.press(chooser, "Українська")
    uk = bot.i18n.translator("uk")
    await chat.press(await chat.press(notice, uk._("✅ I agree")), uk._("No, thank you"))
    assert (await bot.residents.find(chat.id)).district == "Rieth"
    assert (await by_link(bot)).get("rieth-flyer") == 1


async def test_a_person_counts_once_however_often_they_start_or_agree(bot, chat_as, sandbox):
    chat = chat_as("ar")
    t = bot.i18n.translator("ar")
    first = await chat.send("/start rieth-ar-treppenhaus-2027")
    notice = await chat.send("/start rieth-ar-treppenhaus-2027")
    opt_in = await chat.press(notice, t._("✅ I agree"))
    await chat.press(opt_in, t._("No, thank you"))
    await chat.press(first, t._("✅ I agree"))  # the first notice's button, after agreeing
    await chat.send("/start rieth-ar-treppenhaus-2027")  # the poster scanned again
    assert (await by_link(bot)).get("rieth-ar-treppenhaus-2027") == 1
    assert len(await bot.db.fetchall("SELECT * FROM outreach_links")) == 1


async def test_a_resident_who_agreed_before_keeps_language_and_gets_a_missing_district(
    bot, chat_as, consented
):
    chat, t = await consented("de")
    menu = await chat.send("/start rieth-ar-treppenhaus-2027")
    assert t._("How can we help you? Please choose:") in menu.text
    resident = await bot.residents.find(chat.id)
    assert (resident.language, resident.district) == ("de", "Rieth")
    await chat.send("/start berliner_platz-ru")
    assert (await bot.residents.find(chat.id)).district == "Rieth"  # theirs stays
    assert "rieth-ar-treppenhaus-2027" not in await by_link(bot)  # reached before the poster


async def test_a_forged_link_reference_is_ignored(bot, chat_as, sandbox):
    chat = chat_as("de")
    t = bot.i18n.translator("de")
    notice = await chat.send("/start")
    await sandbox.press_button(chat.user, notice, "consent:agree:424242", forge=True)
    await sandbox.wait_for_idle()
    resident = await bot.residents.find(chat.id)
    assert resident.consented and resident.district is None
    assert t._("Do you agree?") not in chat.last().text
    assert await by_link(bot) == {"–": 1}
