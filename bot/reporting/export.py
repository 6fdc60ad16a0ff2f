"""The funder report as a spreadsheet (xlsx): one sheet for the totals, one per breakdown and one
per monthly series, labelled in German by default and in English on request.

Counts are written as numbers so that the funder can add them up; a group smaller than 3 stays
the text "<3", and a cell hidden beside it "x" (k-anonymity, bot/reporting/masking.py): the exact
number never reaches the file. Made from Report.rows(), like the text and the CSV
(bot/reporting/text.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reporting.labels import (
    dimension_label,
    item_label,
    section_label,
    section_sort_key,
    sheet_name,
    word,
)
from bot.reporting.monthly import Count, MonthlySeries
from bot.reporting.report import Report, Row
from bot.reporting.text import check_language

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
    rows = report.rows()
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
    overview.append([word("hidden", lang)])
    book.properties.title = f"{word('title', lang)} {report.start} – {report.end}"
    for section in sorted(report.breakdowns, key=section_sort_key):
        sheet = book.create_sheet(sheet_name(section, lang))
        body = [(item_label(s, i, lang), v) for s, i, v in rows if s == section]
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


def _table(sheet: Worksheet, header: list[str], body: list[tuple[str, Row]], lang: str) -> None:
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
        sheet.append([month, *(series[k][i] for k in keys)])
        row = sheet.max_row
        sheet.cell(row=row, column=1).number_format = "MM.YYYY" if lang == "de" else "YYYY-MM"
        for column in range(2, len(keys) + 2):
            cell = sheet.cell(row=row, column=column)
            _format(cell, cell.value, lang)
    _finish(sheet, len(keys) + 1)


def _format(cell, value: Row, lang: str) -> None:
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
