"""Data protection, crisis help and reporting, end to end where a resident or operator meets it."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet

from bot.app import SERVICES_KEY, running
from bot.core.crypto import ContentLocked
from bot.privacy.retention import Retention
from bot.residents import service as resident_service
from tests.conftest import ADMIN_ID, agree, make_application
from tests.test_cli import ROOT, cli

SECRET = "Mein Vermieter droht mit Räumung wegen Mietschulden bei Frau Zyxwvut"


async def resident_with_case(bot, chat_as, language="de", text=SECRET):
    chat = chat_as(language, "Rana")
    await agree(chat, await chat.send("/start"))
    topics = await chat.send(text)
    districts = await chat.press_data(topics, "req:topic:housing")
    await chat.past_suggestions(await chat.press_data(districts, "req:district:1"))
    return chat


async def test_a_changed_privacy_notice_asks_again(bot, chat_as, consented, monkeypatch):
    chat, t = await consented("ru")
    monkeypatch.setattr(resident_service, "PRIVACY_NOTICE_VERSION", 2)
    answer = await chat.send("/menu")
    assert t._("Do you agree?") in answer.text
    await chat.press_data(answer, "consent:agree")
    assert (await bot.residents.find(chat.id)).consent_version == 2


async def test_mydata_shows_everything_and_only_mine(sandbox, bot, chat_as):
    rana = await resident_with_case(bot, chat_as)
    await resident_with_case(bot, chat_as, text="Andere Person, anderes Problem")
    before = rana.seen()
    await sandbox.send_message(rana.user, "/mydata")
    await sandbox.wait_for_idle()
    summary, document = sandbox.messages_to(rana.id)[before : before + 2]
    assert "1 Anfrage" in summary.text and "1 Nachricht" in summary.text
    data = json.loads(sandbox.file_content(document.raw["document"]["file_id"]))
    assert data["resident"]["user_id"] == rana.id
    assert [m["text"] for m in data["messages"]] == [SECRET]
    assert "Andere Person" not in json.dumps(data, ensure_ascii=False)


async def test_erased_text_is_gone_from_the_database_file_and_its_wal(bot, chat_as, settings):
    rana = await resident_with_case(bot, chat_as)
    needle = b"Zyxwvut"
    files = [settings.db_path, settings.db_path.with_name(settings.db_path.name + "-wal")]

    def bytes_on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in files if p.exists())

    assert needle in bytes_on_disk()  # the test would notice if it looked in the wrong place
    question = await rana.send("/delete")
    await rana.press_data(question, "privacy:delete:yes")
    assert needle not in bytes_on_disk()


async def test_retention_erases_old_closed_cases_and_inactive_residents(
    bot, chat_as, clock, caplog
):
    rana = await resident_with_case(bot, chat_as)
    fresh = await resident_with_case(bot, chat_as, text="Neuer Fall, bleibt")
    for chat in (rana, fresh):
        case = await bot.cases.current_open_case(await bot.residents.find(chat.id))
        await bot.cases.close(case.id, ADMIN_ID)
    # Rana's case closed 181 days ago (retention 180), the other one just now.
    await bot.db.execute(
        "UPDATE cases SET closed_at = ? WHERE resident_id = ?",
        ((clock.now() - timedelta(days=181)).isoformat(), rana.id),
    )
    await bot.db.execute(  # somebody last seen three years ago
        "INSERT INTO residents (user_id, chat_id, language, consent_at, consent_version,"
        " last_seen_at) VALUES (42, 42, 'de', ?, 1, ?)",
        ((clock.now() - timedelta(days=1100)).isoformat(),) * 2,
    )
    await bot.db.execute(  # onboarding, never agreed: nothing but id, chat and language
        "INSERT INTO residents (user_id, chat_id, language) VALUES (43, 43, 'ar')"
    )
    retention = Retention(bot.personal_data, bot.erasure, bot.relay, clock, 180)
    with caplog.at_level(logging.INFO, logger="bot.privacy.retention"):
        assert await retention.run() == (1, 1)
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "bot.privacy.retention")
    assert "1 closed cases" in logged and "42" not in logged and str(rana.id) not in logged
    texts = [r[0] for r in await bot.db.fetchall("SELECT text FROM case_messages ORDER BY id")]
    assert texts == [None, "Neuer Fall, bleibt"]
    assert len(await bot.db.fetchall("SELECT id FROM cases")) == 2  # counted, content gone
    assert await bot.residents.find(42) is None and await bot.residents.find(43) is not None
    assert await retention.run() == (0, 0)


async def test_audit_for_admins_only(sandbox, bot, chat_as):
    rana = await resident_with_case(bot, chat_as)
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    case = await bot.cases.current_open_case(await bot.residents.find(rana.id))
    await bot.cases.take(case.id, ADMIN_ID)
    listing = await admin.send("/audit")
    assert f"{ADMIN_ID} · take · #{case.id}" in listing.text
    answer = await rana.send("/audit")
    assert "Diesen Befehl kenne ich nicht" in answer.text


async def test_content_is_encrypted_at_rest_and_refused_without_the_key(
    sandbox, settings, clock, chat_as, tmp_path
):
    key = Fernet.generate_key().decode()
    locked = replace(settings, encryption_keys=(key,))
    async with running(make_application(locked, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        rana = await resident_with_case(services, chat_as)
        case = await services.cases.current_open_case(await services.residents.find(rana.id))
        assert [m.text for m in await services.cases.repo.messages(case.id)] == [SECRET]
    with sqlite3.connect(settings.db_path) as raw:
        stored = raw.execute("SELECT text FROM case_messages").fetchone()[0]
    assert stored.startswith("enc2:") and "Zyxwvut" not in stored  # the resident's own key
    async with running(make_application(settings, clock)) as application:  # no key
        services = application.bot_data[SERVICES_KEY]
        with pytest.raises(ContentLocked):
            await services.cases.repo.messages(case.id)


async def test_key_rotation_from_the_command_line(
    tmp_path, settings, clock, sandbox, chat_as, monkeypatch
):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    async with running(make_application(replace(settings, encryption_keys=(old,)), clock)) as app:
        services = app.bot_data[SERVICES_KEY]
        await resident_with_case(services, chat_as)
        # A value from before resident keys: in clear (or sealed with the main key only).
        await services.db.execute("UPDATE cases SET first_name = 'Rana'")
    code, _, err = await cli(tmp_path, "rotate-key", THINKA_ENCRYPTION_KEY=f"{new},{old}")
    assert code == 0, err
    with sqlite3.connect(settings.db_path) as raw:
        assert raw.execute("SELECT first_name FROM cases").fetchone()[0].startswith("enc2:")
    async with running(make_application(replace(settings, encryption_keys=(new,)), clock)) as app:
        repo = app.bot_data[SERVICES_KEY].cases.repo
        assert [m.text for m in await repo.messages(1)] == [SECRET]  # readable with new only
        assert (await repo.get(1)).first_name == "Rana"
    code, _, err = await cli(tmp_path, "rotate-key", THINKA_ENCRYPTION_KEY="not-a-key")
    assert code == 2 and "not a Fernet key" in err
    stranger = Fernet.generate_key().decode()  # a key that never sealed anything here
    code, _, err = await cli(tmp_path, "rotate-key", THINKA_ENCRYPTION_KEY=stranger)
    assert code == 2 and "does not open the key file" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "ich will nicht mehr leben"),
        ("ar", "زوجي يضربني كل يوم"),
        ("ru", "я хочу покончить с собой"),
    ],
)
async def test_a_crisis_message_gets_the_numbers_at_once_and_the_case_is_urgent(
    sandbox, bot, chat_as, language, text
):
    chat = chat_as(language, "X")
    t = bot.i18n.translator(language)
    await agree(chat, await chat.send("/start"))
    before = chat.seen()
    await sandbox.send_message(chat.user, text)
    await sandbox.wait_for_idle()
    answers = sandbox.messages_to(chat.id)[before:]
    assert t._("Your safety comes first.") in answers[0].text and "110" in answers[0].text
    assert "116 016" in answers[0].text
    case = await bot.cases.current_open_case(await bot.residents.find(chat.id))
    assert case.urgent and case.status == "new"  # submitted without the topic question
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    queue = await admin.send("/queue")
    assert queue.text.splitlines()[1].startswith("🆘")


async def test_an_edited_message_or_caption_with_signs_of_danger_gets_the_numbers_once(
    sandbox, bot, chat_as
):
    """Issue 14, finding 7: an edit that added "my husband beats me" got no emergency numbers."""
    chat = chat_as("ar", "X")
    t = bot.i18n.translator("ar")
    await agree(chat, await chat.send("/start"))
    seen = chat.seen()
    sent = await sandbox.send_message(chat.user, "مرحبا، عندي سؤال")
    topics = await sandbox.wait_for_message(chat.id, after=seen)
    districts = await chat.press_data(topics, "req:topic:family")
    await chat.past_suggestions(await chat.press_data(districts, "req:district:1"))
    case = await bot.cases.current_open_case(await bot.residents.find(chat.id))
    assert case is not None and not case.urgent

    def emergency_answers(since: int) -> int:
        return sum(
            t._("Your safety comes first.") in (m.text or "")
            for m in sandbox.messages_to(chat.id)[since:]
        )

    before = chat.seen()
    await sandbox.edit_message(chat.user, sent, "زوجي يضربني")
    await sandbox.wait_for_idle()
    assert emergency_answers(before) == 1
    assert (await bot.cases.get(case.id)).urgent  # staff see it first in /queue
    await sandbox.edit_message(chat.user, sent, "زوجي يضربني كل يوم")  # the same message again
    await sandbox.wait_for_idle()
    assert emergency_answers(before) == 1
    photo = await sandbox.send_photo(chat.user, caption="ich will nicht mehr leben")
    await sandbox.wait_for_idle()
    assert emergency_answers(before) == 2
    await sandbox.edit_message(chat.user, photo, "ich will wirklich nicht mehr leben")
    await sandbox.wait_for_idle()
    assert emergency_answers(before) == 2


async def test_a_crisis_message_before_consent_gets_the_numbers_and_stores_nothing(
    sandbox, bot, chat_as
):
    chat = chat_as("ru", "X")
    before = chat.seen()
    await sandbox.send_message(chat.user, "муж бьет меня и детей")
    await sandbox.wait_for_idle()
    answers = sandbox.messages_to(chat.id)[before:]
    assert "110" in answers[0].text
    assert bot.i18n.translator("ru")._("Do you agree?") in answers[-1].text
    assert await bot.db.fetchall("SELECT * FROM case_messages") == []


async def test_report_matches_hand_computed_figures(bot, tmp_path, settings):
    """A small fixture, counted by hand: December 2026 in Erfurt."""
    db = bot.db
    rows = [  # id, resident, status, topic, language, district, submitted (UTC), closed
        (
            1,
            None,
            "closed",
            "debt",
            "ar",
            "Rieth",
            "2026-12-01T09:00:00+00:00",
            "2026-12-03T09:00:00+00:00",
        ),
        (2, None, "new", "debt", "ar", "Rieth", "2026-12-02T09:00:00+00:00", None),
        (3, None, "open", "debt", "ru", "Berliner Platz", "2026-12-05T09:00:00+00:00", None),
        (4, None, "new", "housing", "ru", "Rieth", "2026-12-06T09:00:00+00:00", None),
        (5, None, "new", "debt", "de", "Rieth", "2026-12-31T23:30:00+00:00", None),  # January
    ]
    for row in rows:
        await db.execute(
            "INSERT INTO cases (id, resident_id, status, topic, language, district, created_at,"
            " submitted_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row[:6], row[6], row[6], row[7]),
        )
    # first staff answers: case 1 after 2 h, case 3 after 4 h, case 4 after 10 h -> median 4 h
    for case_id, hours in ((1, 2), (3, 4), (4, 10)):
        submitted = datetime.fromisoformat(rows[case_id - 1][6])
        await db.execute(
            "INSERT INTO case_messages (case_id, direction, sender_id, kind, text,"
            " source_chat_id, source_message_id, relay_status, created_at) VALUES"
            " (?, 'out', 1, 'text', 'x', 1, ?, 'sent', ?)",
            (case_id, case_id, (submitted + timedelta(hours=hours)).isoformat()),
        )
    await db.execute(
        "INSERT INTO daily_counts (kind, day, language, count) VALUES"
        " ('resident_reached', '2026-12-01', 'ar', 2), ('resident_reached', '2026-12-05', 'ru', 1),"
        " ('resident_reached', '2027-01-01', 'de', 1)"
    )
    report = await bot.reports.report(date(2026, 12, 1), date(2026, 12, 31), settings.timezone)
    assert report.figures["cases_opened"] == 4
    assert report.figures["cases_closed"] == 1
    assert report.figures["residents_new"] == 3
    assert report.figures["residents_reached"] == 4  # deleted residents count per case
    assert report.breakdowns["cases_by_topic"] == {"debt": 3, "housing": 1}
    assert report.breakdowns["cases_by_language"] == {"ar": 2, "ru": 2}
    assert report.median_first_answer_hours == 4.0
    rows_out = dict(((s, k), v) for s, k, v in report.rows())
    assert rows_out[("cases_by_topic", "housing")] == "<3"  # small groups are masked
    # ... and 3 debt requests beside 4 in all would give the housing 1 away: hidden too.
    assert rows_out[("cases_by_topic", "debt")] == "x"
    assert rows_out[("total", "cases_opened")] == 4
    assert rows_out[("total", "cases_closed")] == "<3"
    assert rows_out[("total", "appointments_held")] == 0


async def test_report_on_the_command_line(tmp_path, settings, bot, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    period = ("report", "--from", "2026-12-01", "--to", "2026-12-31")
    code, out, err = await cli(tmp_path, *period, "--format", "csv")
    assert code == 0, err
    assert out.splitlines()[0] == "\ufeffBereich;Merkmal;Wert"  # German Excel: BOM and ;
    assert "Gesamt;Anfragen gestellt;0\r\n" in out
    code, out, err = await cli(tmp_path, *period, "--lang", "en")
    assert code == 0 and "Totals" in out and "Requests opened: 0" in out, err
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF-"), ("png", b"\x89PNG")):
        code, out, err = await cli(tmp_path, *period, "--format", fmt)
        name = f"thinka-bericht-2026-12-01-2026-12-31.{fmt}"
        assert code == 0 and out == f"report written to {name}\n", err
        assert (tmp_path / name).read_bytes().startswith(magic)
    code, out, err = await cli(tmp_path, *period, "--format", "csv", "--out", "r.csv")
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbfBereich;")
    for bad in (["--format", "doc"], ["--lang", "fr"], ["--format", "pdf", "--out", "no/r.pdf"]):
        code, _, err = await cli(tmp_path, *period, *bad)
        assert code == 2 and err.count("\n") == 1 and err.startswith("thinka: error:"), bad
    code, _, err = await cli(tmp_path, "report", "--from", "2026-12-31", "--to", "2026-12-01")
    assert code == 2 and err.count("\n") == 1


async def test_monthly_report_to_admins_once(sandbox, bot, chat_as, clock):
    from bot.jobs import _monthly_report_job

    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    await admin.send("/start")
    seen = admin.seen()

    # The job's context: the services (the report goes out through the courier).
    Context = SimpleNamespace(bot_data={SERVICES_KEY: bot})
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    await _monthly_report_job(Context)
    assert admin.seen() == seen  # not the first of the month
    clock.set(datetime(2027, 1, 1, 8, 0, tzinfo=UTC))
    await _monthly_report_job(Context)
    await _monthly_report_job(Context)
    await sandbox.wait_for_idle()
    reports = sandbox.messages_to(admin.id)[seen:]
    assert [m.method for m in reports] == ["sendMessage", "sendPhoto", "sendDocument"]
    assert "Zeitraum: 01.12.2026 – 31.12.2026" in reports[0].text
    assert reports[2].raw["document"]["file_name"] == "thinka-bericht-2026-12-01-2026-12-31.xlsx"


async def test_stats_include_the_month_report_for_admins(sandbox, bot, chat_as):
    await resident_with_case(bot, chat_as)
    admin = chat_as("de", "Admin", user_id=ADMIN_ID)
    stats = await admin.send("/stats")
    assert "Th.INKA – Bericht für den Fördergeber" in stats.text
    assert "Zeitraum: 01.12.2026 – 01.12.2026" in stats.text
    assert "Anfragen gestellt: <3" in stats.text
