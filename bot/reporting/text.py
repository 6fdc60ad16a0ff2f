"""The funder report as text and as CSV for German Excel (`;` between fields, a UTF-8 byte order
mark, decimal commas), labelled in German by default and in English on request.

Both are made from Report.rows(), like the spreadsheet (bot/reporting/export.py) and the charts,
so no two formats can disagree; small groups arrive masked ("<3", "x": bot/reporting/masking.py).
This module needs neither openpyxl nor matplotlib, so the bot can import it at start-up.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from bot.reporting.labels import REPORT_LANGUAGES, item_label, section_label, word
from bot.reporting.report import Report, Row

BOM = "\ufeff"


def check_language(lang: str) -> None:
    if lang not in REPORT_LANGUAGES:
        raise ValueError(f"report language must be one of {', '.join(REPORT_LANGUAGES)}")


def value_text(value: Row, lang: str) -> str:
    """A value as text: German dates and decimal commas in German."""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()
    if isinstance(value, float):
        text = f"{value:.1f}"
        return text.replace(".", ",") if lang == "de" else text
    return str(value)


# -- text --------------------------------------------------------------------------------------


def text_report(report: Report, lang: str = "de") -> str:
    """The report as plain text (the command line, /stats, the monthly message to admins)."""
    check_language(lang)
    lines = [
        word("title", lang),
        f"{section_label('period', lang)}: {value_text(report.start, lang)} –"
        f" {value_text(report.end, lang)}",
    ]
    section = None
    for name, item, value in report.rows()[2:]:
        if name != section:
            section = name
            lines += ["", f"[{section_label(name, lang)}]"]
        lines.append(f"{item_label(name, item, lang)}: {value_text(value, lang)}")
    lines += ["", word("masked", lang), word("hidden", lang)]
    return "\n".join(lines) + "\n"


# -- CSV ---------------------------------------------------------------------------------------


def csv_text(report: Report, lang: str = "de") -> str:
    """The report as CSV text for Excel, starting with the byte order mark: write it with
    encoding="utf-8" (not utf-8-sig, the mark is already in the text)."""
    check_language(lang)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([word("section", lang), word("item", lang), word("value", lang)])
    for section, item, value in report.rows():
        writer.writerow(
            [section_label(section, lang), item_label(section, item, lang), value_text(value, lang)]
        )
    writer.writerow([])
    writer.writerow([word("masked", lang)])
    writer.writerow([word("hidden", lang)])
    return BOM + out.getvalue()
