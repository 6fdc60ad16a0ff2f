"""The funder report as the bot hands it out: the text, the chart and the spreadsheet of one
period, for /stats, the monthly message to admins and the command line.

The figures are for the period asked; the chart and the spreadsheet's monthly sheets show the
twelve months up to its end (a single month is no trend), or the whole period when it is longer.
Drawing the chart and writing the spreadsheet take a CPU for about a second and matplotlib and
openpyxl some 80 MB: in the running bot they are made in a process of their own, started for the
purpose and gone afterwards, so the bot keeps its memory (bench/scale.py measures it) and keeps
answering meanwhile. The command line, a process of its own already, makes them on a thread.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.db import Database
from bot.core.outgoing import Envelope
from bot.reporting.monthly import MonthlyRepository, MonthlySeries
from bot.reporting.report import Report, ReportRepository
from bot.reporting.text import csv_text, text_report

TREND_MONTHS = 12


@dataclass(frozen=True)
class ReportFiles:
    report: Report
    monthly: MonthlySeries
    text: str
    chart: bytes  # PNG
    xlsx: bytes
    name: str  # file name without extension, e.g. thinka-bericht-2026-11-01-2026-11-30


class ReportService:
    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self._reports = ReportRepository(db)
        self._monthly = MonthlyRepository(db)
        self._tz = tz

    async def report(self, start: date, end: date, tz: ZoneInfo | None = None) -> Report:
        return await self._reports.report(start, end, tz or self._tz)

    async def month_claimed(self, month: str) -> bool:
        return await self._reports.month_claimed(month)

    async def claim_month(
        self, month: str, now: datetime, outgoing: Iterable[Envelope] = ()
    ) -> bool:
        """True once per month: the monthly message is queued once (with `outgoing`, in the same
        transaction), also across restarts."""
        return await self._reports.claim_month(month, now, outgoing)

    async def monthly(self, start: date, end: date) -> MonthlySeries:
        return await self._monthly.series(trend_start(start, end), end, self._tz)

    async def files(self, report: Report, lang: str = "de") -> ReportFiles:
        """What /stats and the monthly message send of a report: its text, the chart and the
        spreadsheet."""
        start, end = report.start, report.end
        monthly = await self.monthly(start, end)
        loop = asyncio.get_running_loop()
        # "spawn": a fresh interpreter, not a fork of the bot with its threads and connections.
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        try:
            chart, xlsx = await loop.run_in_executor(pool, render_files, report, monthly, lang)
        finally:
            pool.shutdown(wait=False)  # the worker exits on its own; no blocking wait here
        return ReportFiles(
            report=report,
            monthly=monthly,
            text=text_report(report, lang),
            chart=chart,
            xlsx=xlsx,
            name=file_stem(start, end, lang),
        )

    async def document(self, start: date, end: date, fmt: str, lang: str = "de") -> bytes:
        """The report in one of FORMATS, as the bytes of its file."""
        report = await self.report(start, end)
        monthly = await self.monthly(start, end) if fmt in ("xlsx", "pdf", "png") else None
        return await asyncio.to_thread(render, fmt, report, monthly, lang)


FORMATS = ("text", "csv", "xlsx", "pdf", "png")


def render_files(report: Report, monthly: MonthlySeries, lang: str) -> tuple[bytes, bytes]:
    """The chart and the spreadsheet (run in the worker process)."""
    return render("png", report, monthly, lang), render("xlsx", report, monthly, lang)


def render(fmt: str, report: Report, monthly: MonthlySeries | None, lang: str = "de") -> bytes:
    """One format's file. xlsx, pdf and png need the monthly series (the charts' months)."""
    if fmt == "text":
        return text_report(report, lang).encode()
    if fmt == "csv":
        return csv_text(report, lang).encode()  # the byte order mark is in the text
    if monthly is None or fmt not in FORMATS:
        raise ValueError(f"cannot render {fmt!r} without the monthly series")
    # Imported here: matplotlib and openpyxl take 0.8 s to import, which would double the
    # bot's start-up for files made a few times a month.
    from bot.reporting.charts import chart_png
    from bot.reporting.export import write_xlsx
    from bot.reporting.pdf import report_pdf

    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(report, monthly, out, lang)
        return out.getvalue()
    links = {
        item: value for section, item, value in report.rows() if section == "residents_by_link"
    }
    chart = chart_png(monthly, links, lang, period=(report.start, report.end))
    return chart if fmt == "png" else report_pdf(report, chart, lang)


def trend_start(start: date, end: date) -> date:
    """The first day of the month TREND_MONTHS − 1 months before `end`'s, or of `start`'s month
    when that is earlier."""
    month = end.replace(day=1)
    for _ in range(TREND_MONTHS - 1):
        month = (month - timedelta(days=1)).replace(day=1)
    return min(month, start.replace(day=1))


def file_stem(start: date, end: date, lang: str = "de") -> str:
    word = "bericht" if lang == "de" else "report"
    return f"thinka-{word}-{start.isoformat()}-{end.isoformat()}"


PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2}))?")


def period_for(argument: str | None, today: date) -> tuple[date, date] | None:
    """/stats [YYYY | YYYY-MM]: this month so far, a year or a month (up to today at most);
    None for anything else or a period that has not begun."""
    if argument is None:
        return today.replace(day=1), today
    match = PERIOD.fullmatch(argument.strip())
    if match is None:
        return None
    year, month = int(match.group(1)), match.group(2)
    try:
        if month is None:
            start, end = date(year, 1, 1), date(year, 12, 31)
        else:
            start = date(year, int(month), 1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    except ValueError:
        return None
    if start > today:
        return None
    return start, min(end, today)
