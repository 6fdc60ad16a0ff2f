"""The funder report as files: a spreadsheet (xlsx) and a CSV that German Excel opens as it
should (`;` between fields, a UTF-8 byte order mark, decimal commas), labelled in German by
default and in English on request.

Counts are written as numbers so that the funder can add them up; a group smaller than 3 stays
the text "<3" (k-anonymity, as in bot/reporting/report.py): the exact number never reaches the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reporting.labels import (
    REPORT_LANGUAGES,
    dimension_label,
    item_label,
    section_label,
    sheet_name,
    topic_sort_key,
    word,
)
from bot.reporting.monthly import Count, MonthlySeries, shown
from bot.reporting.report import Report, masked

BOM = "\ufeff"
Value = int | float | str | date


def check_language(lang: str) -> None:
    if lang not in REPORT_LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(REPORT_LANGUAGES)}")


def typed_rows(report: Report) -> Iterator[tuple[str, str, Value]]:
    """Report.rows() with typed values: dates, counts as int, "<3" as text, the median as a
    float (or "–" when there was no answer yet). Same rows, same order, same masking."""
    yield ("period", "from", report.start)
    yield ("period", "to", report.end)
    for key, value in report.figures.items():
        yield ("total", key, _count(value))
    for section, counts in report.breakdowns.items():
        for key, value in sorted(counts.items()):
            yield (section, key, _count(value))
    median = report.median_first_answer_hours
    yield ("total", "median_hours_to_first_answer", "–" if median is None else round(median, 1))


def _count(value: int) -> int | str:
    text = masked(value)
    return int(text) if text.isdigit() else text


# -- CSV ---------------------------------------------------------------------------------------


def csv_text(report: Report, lang: str = "de") -> str:
    """The report as CSV text for Excel, starting with the byte order mark: write it with
    encoding="utf-8" (not utf-8-sig, the mark is already in the text)."""
    check_language(lang)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([word("section", lang), word("item", lang), word("value", lang)])
    for section, item, value in typed_rows(report):
        writer.writerow(
            [section_label(section, lang), item_label(section, item, lang), _csv(value, lang)]
        )
    writer.writerow([])
    writer.writerow([word("masked", lang)])
    return BOM + out.getvalue()


def _csv(value: Value, lang: str) -> str:
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()
    if isinstance(value, float):
        text = f"{value:.1f}"
        return text.replace(".", ",") if lang == "de" else text
    return str(value)


# -- xlsx --------------------------------------------------------------------------------------


def write_xlsx(
    report: Report,
    monthly: MonthlySeries | None,
    path: Path | str | BinaryIO,
    lang: str = "de",
) -> None:
    """One sheet for the totals, one per breakdown and, with `monthly`, one per monthly series.
    Row 1 of every sheet is its header and stays in view when scrolling."""
    check_language(lang)
    book = Workbook()
    overview = book.active
    overview.title = sheet_name("total", lang)
    rows = list(typed_rows(report))
    head = [
        (
            f"{section_label('period', lang)} {item_label(s, i, lang)}"
            if s == "period"
            else item_label(s, i, lang),
            v,
        )
        for s, i, v in rows
        if s in ("period", "total")
    ]
    _table(overview, [word("figure", lang), word("value", lang)], head, lang)
    overview.append([])
    overview.append([word("masked", lang)])
    book.properties.title = f"{word('title', lang)} {report.start} – {report.end}"
    for section in sorted(report.breakdowns, key=_sheet_order):
        sheet = book.create_sheet(sheet_name(section, lang))
        body = [(item_label(s, i, lang), v) for s, i, v in rows if s == section]
        if section == "cases_by_topic":  # in the order of the residents' menu
            keyed = [(i, v) for s, i, v in rows if s == section]
            keyed.sort(key=lambda kv: topic_sort_key(kv[0]))
            body = [(item_label(section, i, lang), v) for i, v in keyed]
        _table(sheet, [dimension_label(section, lang), word("count", lang)], body, lang)
    if monthly is not None:
        for section, series in (
            ("monthly_residents_by_topic", monthly.residents_by_topic),
            ("monthly_residents_by_district", monthly.residents_by_district),
            (
                "monthly_appointments",
                {
                    word("held", lang): monthly.appointments_held,
                    word("missed", lang): monthly.appointments_missed,
                },
            ),
        ):
            sheet = book.create_sheet(sheet_name(section, lang))
            _monthly(sheet, section, monthly.months, series, lang)
    book.save(path)


_SHEET_ORDER = ("cases_by_topic", "cases_by_language", "cases_by_district")


def _sheet_order(section: str) -> tuple[int, str]:
    """The requests first, then the quick answers, then anything added later."""
    if section in _SHEET_ORDER:
        return (_SHEET_ORDER.index(section), section)
    return (len(_SHEET_ORDER), section)


def _table(sheet: Worksheet, header: list[str], body: list[tuple[str, Value]], lang: str) -> None:
    sheet.append(header)
    for label, value in body:
        sheet.append([label, value])
        cell = sheet.cell(row=sheet.max_row, column=2)
        _format(cell, value, lang)
    _finish(sheet, len(header))


def _monthly(
    sheet: Worksheet,
    section: str,
    months: tuple[date, ...],
    series: dict[str, tuple[Count, ...]],
    lang: str,
) -> None:
    keys = list(series)
    sheet.append([word("month", lang), *(item_label(section, k, lang) for k in keys)])
    for i, month in enumerate(months):
        sheet.append([month, *(shown(series[k][i]) for k in keys)])
        row = sheet.max_row
        sheet.cell(row=row, column=1).number_format = "MM.YYYY" if lang == "de" else "YYYY-MM"
        for column in range(2, len(keys) + 2):
            cell = sheet.cell(row=row, column=column)
            _format(cell, cell.value, lang)
    _finish(sheet, len(keys) + 1)


def _format(cell, value: Value, lang: str) -> None:
    if isinstance(value, date):
        cell.number_format = "DD.MM.YYYY" if lang == "de" else "YYYY-MM-DD"
    elif isinstance(value, float):
        cell.number_format = "0.0"
    elif isinstance(value, str):
        # "<3" and "–" sit where numbers stand, so they line up with them.
        cell.alignment = Alignment(horizontal="right")


def _finish(sheet: Worksheet, columns: int) -> None:
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in range(1, columns + 1):
        letter = get_column_letter(column)
        width = max(
            (len(str(c.value)) for c in sheet[letter][:200] if c.value is not None), default=8
        )
        sheet.column_dimensions[letter].width = min(max(width + 2, 10), 60)
