"""Posters' deep links end to end: `/start rieth-ar-treppenhaus-2027` starts onboarding in Arabic,
Rieth is stored when the resident agrees (not before) and not asked again, and the link is
counted once, anonymously, for the report. A foreign payload changes nothing. /stats and the
monthly message to admins bring the chart and the spreadsheet that show the poster."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.app import SERVICES_KEY
from bot.cases.cards import TOPIC_LABELS
from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES
from bot.reporting.charts import HEIGHT_PX, WIDTH_PX
from bot.reporting.labels import SECTION_ORDER as SECTIONS
from bot.reporting.labels import section_label, sheet_name
from bot.reporting.report import ReportRepository
from tests.conftest import ADMIN_ID, agree
from tests.test_report_export import _text_values

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


# -- the report that shows the poster ------------------------------------------------------------


async def residents_from_the_poster(bot, chat_as, n: int = 3) -> None:
    t = bot.i18n.translator("ar")
    for _ in range(n):
        chat = chat_as("de")
        notice = await chat.send("/start rieth-ar-treppenhaus-2027")
        await chat.press(await chat.press(notice, t._("✅ I agree")), t._("No, thank you"))


async def documents(sandbox, chat_id: int) -> None:
    """Until the spreadsheet has come: the chart and it are drawn in a process of their own,
    which takes seconds on a busy machine."""
    await sandbox.wait_for_message(
        chat_id, predicate=lambda m: m.method == "sendDocument", timeout=60
    )
    await sandbox.wait_for_idle()


def sent_files(sandbox, chat_id: int, before: int):
    sent = sandbox.messages_to(chat_id)[before:]
    photo = next(m for m in sent if m.method == "sendPhoto")
    document = next(m for m in sent if m.method == "sendDocument")
    png = sandbox.uploaded_content(photo.raw["photo"][-1]["file_id"])
    xlsx = sandbox.file_content(document.raw["document"]["file_id"])
    return sent, photo, document, png, xlsx


async def test_stats_send_the_chart_and_the_spreadsheet_with_the_posters_link(
    bot, sandbox, chat_as
):
    await residents_from_the_poster(bot, chat_as)
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await admin.send("/start")
    before = admin.seen()
    await sandbox.send_message(admin.user, "/stats")
    await documents(sandbox, admin.id)
    sent, photo, document, png, xlsx = sent_files(sandbox, admin.id, before)
    assert [m.method for m in sent][-2:] == ["sendPhoto", "sendDocument"]
    assert Image.open(io.BytesIO(png)).size == (WIDTH_PX, HEIGHT_PX)
    assert "01.12.26" in photo.caption
    assert document.raw["document"]["file_name"] == "thinka-bericht-2026-12-01-2026-12-01.xlsx"
    links = load_workbook(io.BytesIO(xlsx))[sheet_name("residents_by_link")]
    assert list(links.values) == [
        ("Link (Stadtteil-Sprache-Ort)", "Anzahl"),
        ("rieth-ar-treppenhaus-2027", 3),
        ("ohne Link (Start direkt im Bot)", 0),
    ]
    text = "\n".join(m.text for m in sent if m.text)
    assert "rieth-ar-treppenhaus-2027: 3" in text


async def test_stats_with_a_bad_period_says_how_and_sends_nothing_else(bot, sandbox, chat_as):
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await admin.send("/start")
    before = admin.seen()
    answer = await admin.send("/stats letztes Jahr")
    assert answer.text == bot.i18n.translator("de")._(
        "Please write /stats, /stats 2026 for a year or /stats 2026-11 for a month."
    )
    await sandbox.wait_for_idle()
    assert admin.seen() == before + 1
    year = await admin.send("/stats 2026")
    assert "Zeitraum: 01.01.2026 – 01.12.2026" in year.text  # up to today
    await documents(sandbox, admin.id)


async def test_the_monthly_message_shows_the_poster_and_matches_its_spreadsheet(
    bot, sandbox, chat_as, clock
):
    """The issue's 'done when': at the end of the month the admin gets a chart and an Excel
    file that show the poster among the sources, with the figures of the text."""
    from bot.jobs import _monthly_report_job

    await residents_from_the_poster(bot, chat_as, 4)
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await admin.send("/start")
    before = admin.seen()
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))
    await _monthly_report_job(SimpleNamespace(bot_data={SERVICES_KEY: bot}, bot=bot.courier.bot))
    await sandbox.wait_for_idle()
    sent, _photo, _document, png, xlsx = sent_files(sandbox, admin.id, before)
    assert png.startswith(b"\x89PNG")
    book = load_workbook(io.BytesIO(xlsx))
    text = _text_values("\n".join(m.text for m in sent if m.text))
    assert text[(section_label("residents_by_link"), "rieth-ar-treppenhaus-2027")] == "4"
    compared = 0
    for (section_text, label), printed in text.items():
        section = next(k for k in (*SECTIONS, "total") if section_label(k) == section_text)
        value = {r[0]: r[1] for r in book[sheet_name(section)].iter_rows(values_only=True)}[label]
        assert str(value) == printed, (section_text, label)
        compared += 1
    assert compared >= 18


async def test_staff_trying_a_posters_link_are_neither_counted_nor_switched(bot, chat_as):
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    answer = await admin.send("/start rieth-ar-treppenhaus-2027")
    assert "/queue" in answer.text  # the staff greeting, in German
    assert (await bot.residents.find(admin.id)).language == "de"
    assert await bot.db.fetchall("SELECT * FROM outreach_links") == []
