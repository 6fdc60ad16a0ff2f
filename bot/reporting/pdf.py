"""The funder report as a PDF to forward or print: the totals and every breakdown as tables, then
the charts on a page of their own. Made from Report.rows() like every other format, so the
figures are those of the text, the CSV and the spreadsheet, masked the same way.

fpdf2 writes it (as it writes the posters), in DejaVu Sans, which has every letter a district
name or a quick answer's id might use.
"""

from __future__ import annotations

import io
from itertools import groupby

from fpdf import FPDF, FontFace

from bot.core.paths import dejavu_sans
from bot.reporting.labels import dimension_label, item_label, section_label, word
from bot.reporting.report import Report
from bot.reporting.text import check_language, value_text

FONT = "DejaVu"
TEAL = (0, 102, 112)
MARGIN = 18  # mm


def report_pdf(report: Report, chart: bytes | None, lang: str = "de") -> bytes:
    """A4 pages: title and period, the totals, one table per breakdown, the chart (PNG)."""
    check_language(lang)
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    regular, bold = dejavu_sans()
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    period = f"{value_text(report.start, lang)} – {value_text(report.end, lang)}"
    pdf.set_title(f"{word('title', lang)} {period}")
    pdf.set_creator("Th.INKA bot")
    pdf.set_lang(lang)
    pdf.add_page()
    pdf.set_font(FONT, "B", 16)
    pdf.set_text_color(*TEAL)
    pdf.multi_cell(0, 8, word("title", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 11)
    pdf.cell(0, 7, f"{section_label('period', lang)}: {period}", new_x="LMARGIN", new_y="NEXT")
    rows = report.rows()[2:]
    for section, group in groupby(rows, key=lambda row: row[0]):
        header = (
            (word("figure", lang), word("value", lang))
            if section == "total"
            else (dimension_label(section, lang), word("count", lang))
        )
        body = [(item_label(section, item, lang), value_text(v, lang)) for _, item, v in group]
        _table(pdf, section_label(section, lang), header, body)
    pdf.ln(4)
    pdf.set_font(FONT, "", 9)
    for note in (word("masked", lang), word("hidden", lang)):
        pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    if chart is not None:
        pdf.add_page()
        # The chart is 1200 × 2000 px: as tall as the page allows, centred.
        height = pdf.h - 2 * MARGIN
        width = height * 0.6
        pdf.image(io.BytesIO(chart), x=(pdf.w - width) / 2, y=MARGIN, w=width, h=height)
    return bytes(pdf.output())


def _table(pdf: FPDF, title: str, header: tuple[str, str], body: list[tuple[str, str]]) -> None:
    pdf.ln(4)
    pdf.set_font(FONT, "B", 12)
    pdf.set_text_color(*TEAL)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "", 10)
    with pdf.table(
        col_widths=(130, 44),
        text_align=("LEFT", "RIGHT"),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=6,
    ) as table:
        for cells in (header, *body):
            row = table.row()
            for cell in cells:
                row.cell(cell)
