"""The funder report as text, xlsx, CSV, PDF and charts, and the monthly series behind them, from
a real migrated database: the same figures as Report.rows() in every format, numbers as
numbers, small groups as "<3" and the cell hidden beside a lone one as "x"."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.cases.repository import TOPICS
from bot.core.db import Database
from bot.core.i18n import LANGUAGES
from bot.reporting.charts import HEIGHT_PX, WIDTH_PX, chart_png
from bot.reporting.export import write_xlsx
from bot.reporting.labels import has_label, item_label, section_label, sheet_name
from bot.reporting.monthly import MonthlyRepository, MonthlySeries, month_bounds
from bot.reporting.pdf import report_pdf
from bot.reporting.report import Report, ReportRepository
from bot.reporting.text import BOM, csv_text, text_report

TZ = ZoneInfo("Europe/Berlin")
START, END = date(2026, 10, 1), date(2027, 1, 31)

# (resident, topic, district, language, submitted_at UTC). None as resident: deleted data.
CASES = [
    (1, "debt", "Rieth", "ar", "2026-11-03T09:00:00+00:00"),
    (2, "debt", "Rieth", "ar", "2026-11-04T09:00:00+00:00"),
    (3, "debt", "Rieth", "ru", "2026-11-05T09:00:00+00:00"),
    (1, "debt", "Rieth", "ar", "2026-11-20T09:00:00+00:00"),  # the same resident again
    (None, "debt", "Rieth", "uk", "2026-11-21T09:00:00+00:00"),
    (4, "housing", "Berliner Platz", "de", "2026-11-22T09:00:00+00:00"),
    # 23:30 UTC on 31 October is 00:30 on 1 November in Erfurt: a November request.
    (5, "letter", "Rieth", "de", "2026-10-31T23:30:00+00:00"),
    (6, "housing", "Berliner Platz", "ar", "2026-12-01T09:00:00+00:00"),
    (7, "housing", "Berliner Platz", "ar", "2026-12-02T09:00:00+00:00"),
    (8, "housing", "Berliner Platz", "uk", "2026-12-03T09:00:00+00:00"),
    (9, "job", "Rieth", "en", "2026-12-04T09:00:00+00:00"),
    (10, "family", None, "de", "2027-01-10T09:00:00+00:00"),
]
# (status, starts_at UTC): November 3 held, 1 missed; December 4 held, 3 missed.
APPOINTMENTS = [("done", f"2026-11-{d:02d}T09:00:00+00:00") for d in (10, 11, 12)]
APPOINTMENTS += [("no_show", "2026-11-13T09:00:00+00:00")]
APPOINTMENTS += [("done", f"2026-12-{d:02d}T09:00:00+00:00") for d in (7, 8, 9, 10)]
APPOINTMENTS += [("no_show", f"2026-12-{d:02d}T09:00:00+00:00") for d in (14, 15, 16)]
APPOINTMENTS += [("cancelled", "2026-12-17T09:00:00+00:00")]


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "report.sqlite3")
    await database.migrate()
    for user in range(1, 11):
        await database.execute(
            "INSERT INTO residents (user_id, chat_id, language) VALUES (?, ?, 'de')", (user, user)
        )
    for case_id, (resident, topic, district, language, at) in enumerate(CASES, start=1):
        await database.execute(
            "INSERT INTO cases (id, resident_id, status, topic, district, language, created_at,"
            " submitted_at) VALUES (?, ?, 'new', ?, ?, ?, ?, ?)",
            (case_id, resident, topic, district, language, at, at),
        )
    await database.execute(
        "INSERT INTO case_messages (case_id, direction, sender_id, kind, text, source_chat_id,"
        " source_message_id, relay_status, created_at) VALUES"
        " (1, 'out', 1, 'text', 'x', 1, 1, 'sent', '2026-11-03T11:30:00+00:00')"
    )
    for status, at in APPOINTMENTS:
        await database.execute(
            "INSERT INTO appointments (case_id, location, starts_at, ends_at, status, created_at,"
            " updated_at) VALUES (1, 'rieth', ?, ?, ?, ?, ?)",
            (at, at, status, at, at),
        )
    await database.execute(
        "INSERT INTO daily_counts (kind, day, language, count) VALUES"
        " ('resident_reached', '2026-11-03', 'ar', 7), ('resident_reached', '2026-12-01', 'de', 2)"
    )
    await database.execute(
        "INSERT INTO selfhelp_events (answer_id, event, language, day) VALUES"
        " ('debt-mahnung', 'suggested', 'ar', '2026-11-03'),"
        " ('debt-mahnung', 'opened', 'ar', '2026-11-03'),"
        " ('debt-mahnung', 'helped', 'ar', '2026-11-03')"
    )
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
async def report(db) -> Report:
    return await ReportRepository(db).report(START, END, TZ)


@pytest.fixture
async def monthly(db) -> MonthlySeries:
    return await MonthlyRepository(db).series(START, END, TZ)


# -- monthly series ------------------------------------------------------------------------------


async def test_monthly_series_counts_residents_per_local_month_and_masks_small_groups(monthly):
    assert monthly.months == (
        date(2026, 10, 1),
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    )
    by_topic = monthly.residents_by_topic
    assert list(by_topic) == ["debt", "housing", "letter", "job", "family"]  # menu order
    # Residents 1, 2, 3 and one whose data was deleted; resident 1's second request adds none.
    assert by_topic["debt"] == (0, 4, 0, 0)
    # One in November: "<3"; December's 3 hidden beside it (the months add up to a total).
    assert by_topic["housing"] == (0, "<3", "x", 0)
    assert by_topic["letter"] == (0, "<3", 0, 0)  # 31 October 23:30 UTC is November in Erfurt
    assert by_topic["job"] == (0, 0, "<3", 0)
    assert monthly.residents_by_district == {
        "Berliner Platz": (0, "<3", "x", 0),
        "Rieth": (0, "x", "<3", 0),
        "–": (0, 0, 0, "<3"),
    }
    assert monthly.appointments_held == (0, 3, 4, 0)
    assert monthly.appointments_missed == (0, "<3", "x", 0)  # the cancelled one is neither


async def test_monthly_series_agrees_with_the_report_totals(monthly, report):
    assert sum(monthly.appointments_held) == report.figures["appointments_held"] == 7
    # 4 missed in all, 1 in November and 3 in December: "<3" and "x", so 4 − 3 tells nothing.
    assert report.figures["appointments_missed"] == 4
    assert monthly.appointments_missed[1:3] == ("<3", "x")


async def test_monthly_series_is_clipped_to_the_period(db):
    series = await MonthlyRepository(db).series(date(2026, 11, 4), date(2026, 12, 2), TZ)
    assert series.months == (date(2026, 11, 1), date(2026, 12, 1))
    # From 4 November: residents 2 and 3, 1 (20 Nov), the deleted one; then 6 and 7 in December.
    assert series.residents_by_topic["debt"] == (4, 0)
    assert series.residents_by_topic["housing"] == ("<3", "<3")  # 1 and 2: either could be 1
    assert "letter" not in series.residents_by_topic


def test_month_bounds_follow_the_local_clock_across_daylight_saving():
    bounds = month_bounds(date(2026, 3, 1), date(2026, 4, 30), TZ)
    assert bounds == [
        (date(2026, 3, 1), "2026-02-28T23:00:00+00:00", "2026-03-31T22:00:00+00:00"),
        (date(2026, 4, 1), "2026-03-31T22:00:00+00:00", "2026-04-30T22:00:00+00:00"),
    ]


# -- labels --------------------------------------------------------------------------------------


async def test_every_key_of_the_report_has_a_label(report):
    for section, item, _value in report.rows():
        assert has_label(section), section
        if section in ("period", "total", "cases_by_topic", "cases_by_language"):
            assert has_label(section, item), (section, item)
    for topic in (*TOPICS, "–"):
        assert has_label("cases_by_topic", topic)
        assert has_label("monthly_residents_by_topic", topic)
    for language in LANGUAGES:
        assert has_label("cases_by_language", language)
    for section in report.breakdowns:
        assert len(sheet_name(section, "de")) <= 31 and ":" not in sheet_name(section, "de")


def test_labels_are_german_by_default_and_english_on_request():
    assert item_label("total", "appointments_missed") == "Termine nicht wahrgenommen"
    assert item_label("total", "appointments_missed", "en") == "Appointments missed"
    assert item_label("cases_by_topic", "letter") == "Behördenschreiben"
    assert item_label("cases_by_language", "uk", "en") == "Ukrainian"
    assert item_label("cases_by_district", "Rieth", "en") == "Rieth"  # names stay German
    assert section_label("cases_by_district") == "Anfragen nach Stadtteil"


# -- xlsx ----------------------------------------------------------------------------------------


def _sheet_values(sheet) -> dict[str, object]:
    return {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_xlsx_holds_the_figures_of_report_rows(report, monthly, tmp_path, lang):
    path = tmp_path / "report.xlsx"
    write_xlsx(report, monthly, path, lang=lang)
    book = load_workbook(path)
    overview = book[sheet_name("total", lang)]
    checked = masked = hidden = numbers = 0
    for section, item, expected in report.rows():
        if section in ("period", "total"):
            sheet = overview
            label = item_label(section, item, lang)
            if section == "period":
                label = f"{section_label('period', lang)} {label}"
        else:
            sheet = book[sheet_name(section, lang)]
            label = item_label(section, item, lang)
        value = _sheet_values(sheet)[label]
        if section == "period":
            assert value == datetime.combine(expected, datetime.min.time())
        elif expected in ("<3", "x"):
            assert value == expected
            masked += expected == "<3"
            hidden += expected == "x"
        elif item == "median_hours_to_first_answer":
            assert isinstance(value, float) and value == expected == 2.5
        else:
            assert isinstance(value, int) and value == expected, (section, item, value)
            numbers += 1
        checked += 1
    assert checked == len(report.rows())
    assert masked >= 3 and hidden >= 2 and numbers >= 10
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title


def _text_values(text: str) -> dict[tuple[str, str], str]:
    """The text report read back: (section label, item label) -> value as printed."""
    values, section = {}, None
    body, _, _notes = text.rstrip("\n").rpartition("\n\n")  # the notes on masking come last
    for line in body.splitlines():
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section and ": " in line:
            label, _, value = line.rpartition(": ")
            values[(section, label)] = value
    return values


async def test_xlsx_reopened_has_the_figures_of_the_text_report(report, monthly, tmp_path):
    path = tmp_path / "report.xlsx"
    write_xlsx(report, monthly, path)
    book = load_workbook(path)
    text = _text_values(text_report(report))
    compared = 0
    for (section_text, label), printed in text.items():
        section = next(s for s, _, _ in report.rows() if section_label(s) == section_text)
        sheet = book[sheet_name(section)]
        value = _sheet_values(sheet)[label]
        if isinstance(value, float):
            value = f"{value:.1f}".replace(".", ",")
        assert str(value) == printed, (section_text, label)
        compared += 1
    assert compared == len(report.rows()) - 2  # every row but the period's two dates
    assert ("Anfragen nach Stadtteil", "Berliner Platz") in text
    assert text[("Anfragen nach Stadtteil", "Berliner Platz")] == "x"


async def test_xlsx_monthly_sheets_hold_the_masked_series(report, monthly, tmp_path):
    path = tmp_path / "report.xlsx"
    write_xlsx(report, monthly, path)
    sheet = load_workbook(path)[sheet_name("monthly_residents_by_topic")]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Monat",
        "Schulden",
        "Wohnungssuche",
        "Behördenschreiben",
        "Bewerbung",
        "Familie",
    )
    november = rows[2]
    assert november[0] == datetime(2026, 11, 1)
    assert november[1:] == (4, "<3", "<3", 0, 0)
    appointments = list(load_workbook(path)[sheet_name("monthly_appointments")].values)
    assert appointments[0] == ("Monat", "wahrgenommen", "nicht wahrgenommen")
    assert [r[1:] for r in appointments[1:]] == [(0, 0), (3, "<3"), (4, "x"), (0, 0)]


# -- CSV -----------------------------------------------------------------------------------------


async def test_csv_for_german_excel_starts_with_the_bom_and_splits_on_semicolons(report):
    text = csv_text(report)
    assert text.startswith(BOM)
    rows = [r for r in csv.reader(io.StringIO(text[1:]), delimiter=";") if len(r) == 3]
    assert rows[0] == ["Bereich", "Merkmal", "Wert"]
    body = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert len(body) == len(report.rows())
    assert body[("Zeitraum", "von")] == "01.10.2026"
    assert body[("Gesamt", "Anfragen gestellt")] == str(len(CASES))
    assert body[("Anfragen nach Thema", "Bewerbung")] == "<3"
    assert body[("Gesamt", "Stunden bis zur ersten Antwort (Median)")] == "2,5"  # decimal comma
    assert body[("Anfragen nach Stadtteil", "ohne Angabe")] == "<3"
    assert body[("Anfragen nach Stadtteil", "Berliner Platz")] == "x"  # 12 − 7 − 4 would tell
    assert body[("Anfragen nach Stadtteil", "Rieth")] == "7"
    assert (
        body[
            ("Neu erreicht über Links von Aushängen und Flyern", "ohne Link (Start direkt im Bot)")
        ]
        == "9"
    )


async def test_csv_in_english_on_request(report):
    text = csv_text(report, lang="en")
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter=";"))
    assert rows[0] == ["Section", "Item", "Value"]
    assert ["Totals", "Hours to the first answer (median)", "2.5"] in rows
    assert ["Period", "from", "2026-10-01"] in rows


async def test_unknown_report_language_is_refused(report):
    with pytest.raises(ValueError, match="de, en"):
        csv_text(report, lang="fr")


# -- charts --------------------------------------------------------------------------------------


async def test_chart_png_opens_with_the_expected_size_and_shows_the_data(monthly):
    png = chart_png(monthly, {"rieth-ar-treppenhaus-2027": 4, "rieth-flyer": "<3", "–": 9})
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.size == (WIDTH_PX, HEIGHT_PX) == (1200, 2000)
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # bars, labels and text, not a blank page
    empty = MonthlySeries(monthly.months, {}, {}, (0,) * 4, (0,) * 4)
    assert chart_png(empty) != png
    assert chart_png(monthly, lang="en") != chart_png(monthly)
    assert chart_png(monthly) != png  # the links draw


# -- PDF -----------------------------------------------------------------------------------------


async def test_pdf_holds_the_figures_of_the_text_report_and_the_chart(report, monthly):
    import pypdfium2 as pdfium

    chart = chart_png(monthly)
    pdf = report_pdf(report, chart)
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) >= 2  # the tables, then the chart's page
        text = "\n".join(page.get_textpage().get_text_range() for page in document)
        images = [
            obj
            for obj in document[len(document) - 1].get_objects()
            if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE
        ]
    finally:
        document.close()
    assert len(images) == 1
    flat = " ".join(text.split())
    for (section, label), value in _text_values(text_report(report)).items():
        assert section in flat and f"{label} {value}" in flat, (section, label, value)
