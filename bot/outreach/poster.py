"""Posters (A4) and flyers (A6) for stairwells and the Stadtteilkonferenz: a QR code with the
district's deep link, the office's name, a few lines in every shipped language and the ways to
reach the office without Telegram.

fpdf2 with its HarfBuzz text shaping (uharfbuzz) draws the text: Arabic comes out joined and right
to left, with fpdf2's implementation of the Unicode bidi algorithm for mixed fragments. The font is
DejaVu Sans from matplotlib's package data (Latin, Cyrillic and Arabic in one face), so nothing has
to be installed beside the Python packages. The QR code is drawn as vector rectangles from segno's
module matrix, so it stays sharp at any print size.

A contact value the office has not filled in yet (`TODO` in the organisation file) is None after
loading and its line is left out: no placeholder is ever printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import segno
from babel.dates import get_day_names
from fpdf import FPDF
from telegram import Bot
from telegram.error import TelegramError

from bot.core.i18n import LANGUAGES, N_, RTL_LANGUAGES, Translator
from bot.core.paths import dejavu_sans
from bot.outreach.deeplinks import build_payload, deep_link_url, district_slugs

if TYPE_CHECKING:
    from bot.core.config import Settings
    from bot.core.i18n import I18n
    from bot.org.orgdata import Location, Organisation

# The resident-facing lines, in this order, in every language (msgids are English).
HEADLINE = N_(
    "Questions about official letters, debts, housing or work? We help – free of charge and"
    " confidentially."
)
SCAN = N_("Scan the code with your phone camera and write to us on Telegram.")
NO_TELEGRAM = N_("No Telegram? You can also reach us here:")
OFFICE_HOURS = N_("Office hours:")

SIZES = ("a4", "a6")
TEAL = (0, 102, 112)
INK = (25, 25, 25)
GREY = (95, 95, 95)
FONT = "DejaVu"
# DejaVu's Arabic letters are small beside its Latin and Cyrillic ones: a larger size gives them
# the same weight on the page.
RTL_SCALE = 1.15
RLM = "\u200f"
MIN_SCALE, MAX_SCALE = 0.6, 1.2  # of the layout's type sizes, for the language blocks


@dataclass(frozen=True)
class Layout:
    """Measurements in mm and font sizes in pt for one paper size."""

    width: float
    height: float
    margin: float
    header: float
    title_pt: float
    org_pt: float
    operator_pt: float
    qr: float
    url_pt: float
    headline_pt: float
    body_pt: float
    contact_pt: float
    gap: float


LAYOUTS = {
    "a4": Layout(210, 297, 14, 40, 32, 11.5, 10, 78, 8.5, 12.5, 10.5, 11, 3.6),
    "a6": Layout(105, 148, 6, 19, 15, 6, 5.5, 40, 5, 7, 5.8, 6.2, 1.5),
}


@dataclass(frozen=True)
class PosterText:
    """What one language block says."""

    language: str
    lines: tuple[str, ...]  # headline first

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES


def language_blocks(
    i18n: I18n, first: str | None = None, with_contacts: bool = True
) -> list[PosterText]:
    """The block of every shipped language, the poster's own language first."""
    order = [first] if first in LANGUAGES else []
    order += [code for code in LANGUAGES if code not in order]
    blocks = []
    for code in order:
        tr = i18n.translator(code)
        lines = [tr._(HEADLINE), tr._(SCAN)]
        if with_contacts:
            lines.append(tr._(NO_TELEGRAM))
        blocks.append(PosterText(code, tuple(lines)))
    return blocks


def contact_lines(org: Organisation, location: Location, tr: Translator) -> list[str]:
    """Address, phone, e-mail, website and office hours that are filled in; placeholders left out.

    In Arabic every Latin or numeric value is isolated (FSI … PDI): without that, the bidi
    algorithm shows "09:00–12:00" as "12:00–09:00" in a right-to-left line."""
    lines = []
    if location.address:
        lines.append(f"⌂ {tr.isolate(f'{location.name}, {location.address}')}")
    phone = location.phone or org.phone
    if phone:
        lines.append(f"☎ {tr.isolate(phone)}")
    email = location.email or org.email
    if email:
        lines.append(f"✉ {tr.isolate(email)}")
    if org.website:
        lines.append(f"↗ {tr.isolate(org.website)}")
    if location.hours:
        days = get_day_names("abbreviated", locale=tr.locale)
        periods = " · ".join(
            f"{days[p.weekday]} {tr.isolate(f'{p.opens:%H:%M}–{p.closes:%H:%M}')}"
            for p in location.hours
        )
        lines.append(f"◷ {tr._(OFFICE_HOURS)} {periods}")
    # A right-to-left mark starts each line in Arabic, so that a line holding only an isolated
    # Latin value still reads from the right, its symbol on the right like the rest.
    return [f"{RLM}{line}" for line in lines] if tr.rtl else lines


def render_poster(
    *,
    url: str,
    org: Organisation,
    location: Location,
    i18n: I18n,
    language: str | None = None,
    size: str = "a4",
) -> bytes:
    """The poster as PDF bytes: one page, `size` a4 (poster) or a6 (flyer)."""
    if size not in LAYOUTS:
        raise ValueError(f"size must be one of {', '.join(SIZES)}")
    layout = LAYOUTS[size]
    primary = i18n.translator(language or "de")
    contacts = contact_lines(org, location, primary)
    blocks = language_blocks(i18n, language, with_contacts=bool(contacts))
    pdf = _new_document(layout, org, location, primary.language)
    bottom = layout.height - layout.margin
    y = _header(pdf, layout, org, location)
    y = _qr_code(pdf, layout, url, y + layout.gap * 1.5)
    if contacts:
        contact_top = bottom - _contact_height(pdf, layout, contacts)
    else:
        contact_top = bottom
    # The language blocks take what is left: the largest type (up to 120 %) that fits, so that
    # long translations or many office hours shrink the type instead of running into the
    # contact box. The height grows about linearly with the type size, so one measurement
    # gives a good first guess; wrapping can make it a little too big, hence the check.
    room = contact_top - y - layout.gap
    fits = min(MAX_SCALE, room / _blocks(pdf, layout, blocks, y, 1.0, dry_run=True))
    while fits > MIN_SCALE and _blocks(pdf, layout, blocks, y, fits, dry_run=True) > room:
        fits *= 0.97
    fits = max(fits, MIN_SCALE)
    _blocks(pdf, layout, blocks, y, fits, dry_run=False)
    if contacts:
        _contact_box(pdf, layout, contacts, contact_top, primary.rtl)
    return bytes(pdf.output())


def _new_document(layout: Layout, org: Organisation, location: Location, lang: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format=(layout.width, layout.height))
    pdf.set_margins(layout.margin, layout.margin, layout.margin)
    pdf.set_auto_page_break(False)
    regular, bold = dejavu_sans()
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_text_shaping(True)
    pdf.set_title(f"{location.name} – Telegram")
    pdf.set_author(org.operator)
    pdf.set_creator("Th.INKA bot")
    pdf.set_lang(lang)
    pdf.add_page()
    pdf.c_margin = 0
    return pdf


def _header(pdf: FPDF, layout: Layout, org: Organisation, location: Location) -> float:
    """A band inside the printable area (office printers leave the page edge white)."""
    m, inner = layout.margin, layout.width - 2 * layout.margin
    pdf.set_fill_color(*TEAL)
    pdf.rect(m, m, inner, layout.header, style="F", round_corners=True, corner_radius=m / 4)
    pad = layout.header * 0.14
    pdf.set_text_color(255, 255, 255)
    pdf.set_xy(m + pad, m + pad)
    pdf.set_font(FONT, "B", layout.title_pt)
    pdf.cell(inner - 2 * pad, _line(layout.title_pt), location.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(m + pad)
    pdf.set_font(FONT, "", layout.org_pt)
    pdf.multi_cell(
        inner - 2 * pad, _line(layout.org_pt), org.name, align="L", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_x(m + pad)
    pdf.set_font(FONT, "B", layout.operator_pt)
    pdf.cell(inner - 2 * pad, _line(layout.operator_pt), org.operator)
    pdf.set_text_color(*INK)
    return m + layout.header


def _qr_code(pdf: FPDF, layout: Layout, url: str, top: float) -> float:
    # Error correction Q: a poster in a stairwell gets scratched and scribbled on.
    qr = segno.make_qr(url, error="q", boost_error=False)
    rows = list(qr.matrix)
    module = layout.qr / len(rows)
    left = (layout.width - layout.qr) / 2
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # A hair of overlap so that viewers do not show white seams between the rows.
            pdf.rect(
                left + start * module,
                top + r * module,
                (c - start) * module + 0.02,
                module + 0.02,
                style="F",
            )
    y = top + layout.qr + layout.gap * 0.8
    pdf.set_font(FONT, "", layout.url_pt)
    pdf.set_text_color(*GREY)
    pdf.set_xy(layout.margin, y)
    pdf.cell(layout.width - 2 * layout.margin, _line(layout.url_pt), url, align="C")
    pdf.set_text_color(*INK)
    return y + _line(layout.url_pt)


def _blocks(
    pdf: FPDF, layout: Layout, blocks: Sequence[PosterText], top: float, scale: float, dry_run: bool
) -> float:
    """Draws (or measures) the language blocks from `top`; returns their height."""
    y = top
    width = layout.width - 2 * layout.margin
    for i, block in enumerate(blocks):
        y += layout.gap * scale
        if i and not dry_run:
            pdf.set_draw_color(*TEAL)
            pdf.set_line_width(0.25 if layout.width > 150 else 0.15)
            pdf.line(
                layout.margin,
                y - layout.gap * scale / 2,
                layout.width - layout.margin,
                y - layout.gap * scale / 2,
            )
        for n, text in enumerate(block.lines):
            size = (layout.headline_pt if n == 0 else layout.body_pt) * scale
            size *= RTL_SCALE if block.rtl else 1.0
            pdf.set_font(FONT, "B" if n == 0 else "", size)
            pdf.set_text_color(*(INK if n == 0 else GREY))
            pdf.set_xy(layout.margin, y)
            y += pdf.multi_cell(
                width,
                _line(size),
                text,
                align="R" if block.rtl else "L",
                new_x="LMARGIN",
                new_y="NEXT",
                dry_run=dry_run,
                output="HEIGHT",
            )
    pdf.set_text_color(*INK)
    return y - top


def _contact_height(pdf: FPDF, layout: Layout, lines: Iterable[str]) -> float:
    return _contact_box(pdf, layout, list(lines), 0, rtl=False, dry_run=True)


def _contact_box(
    pdf: FPDF, layout: Layout, lines: list[str], top: float, rtl: bool, dry_run: bool = False
) -> float:
    pad = layout.gap
    width = layout.width - 2 * layout.margin
    pdf.set_font(FONT, "", layout.contact_pt)
    height = 2 * pad + sum(
        pdf.multi_cell(
            width - 2 * pad, _line(layout.contact_pt), line, dry_run=True, output="HEIGHT"
        )
        for line in lines
    )
    if dry_run:
        return height
    pdf.set_draw_color(*TEAL)
    pdf.set_line_width(0.5 if layout.width > 150 else 0.3)
    pdf.rect(layout.margin, top, width, height, style="D", round_corners=True, corner_radius=pad)
    y = top + pad
    for line in lines:
        pdf.set_xy(layout.margin + pad, y)
        y += pdf.multi_cell(
            width - 2 * pad,
            _line(layout.contact_pt),
            line,
            align="R" if rtl else "L",
            new_x="LMARGIN",
            new_y="NEXT",
            output="HEIGHT",
        )
    return height


def _line(points: float) -> float:
    """Line height in mm for a font size in pt (1.35 leading: Arabic needs the room)."""
    return points * 0.3528 * 1.35


# -- command line ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like `python -m bot`
        raise ValueError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="thinka poster",
        description="A print-ready poster (A4) or flyer (A6) with the district's Telegram link",
    )
    parser.add_argument("--district", required=True, help="district slug or name, e.g. rieth")
    parser.add_argument("--source", help="where it hangs, e.g. treppenhaus-2027 (in the link)")
    parser.add_argument(
        "--lang", choices=LANGUAGES, help="language the bot starts in; printed first"
    )
    parser.add_argument("--size", choices=SIZES, default="a4")
    parser.add_argument("--out", type=Path, help="PDF file to write (default: poster-<link>.pdf)")
    parser.add_argument(
        "--bot", help="the bot's username (default: THINKA_BOT_USERNAME from the environment)"
    )
    return parser


def poster_main(argv: Sequence[str] | None = None) -> int:
    """`python -m bot poster …`: writes the PDF, prints its path; bad input: one line, exit 2."""
    from bot.core.config import ConfigError, load_settings
    from bot.core.i18n import CatalogError, I18n
    from bot.org.orgdata import load_organisation

    try:
        args = build_parser().parse_args(argv)
        settings = load_settings()
        username = args.bot or _env("THINKA_BOT_USERNAME") or _ask_telegram(settings)
        if not username:
            raise ValueError(
                "pass --bot USERNAME, set THINKA_BOT_USERNAME (the bot's @name) or"
                " TELEGRAM_BOT_TOKEN (the name is then asked from Telegram)"
            )
        org = load_organisation(settings.config_path)
        slugs = district_slugs(org.locations)
        payload = build_payload(args.district, args.lang, args.source, districts=slugs)
        url = deep_link_url(username, payload)
        location = org.location(payload.split("-")[0])
        if location is None:  # district_slugs comes from the same locations
            raise ValueError(f"no location for {args.district!r}")
        i18n = I18n(settings.timezone)
        pdf = render_poster(
            url=url,
            org=org,
            location=location,
            i18n=i18n,
            language=args.lang,
            size=args.size,
        )
        out = args.out or Path(f"poster-{payload}-{args.size}.pdf")
        out.write_bytes(pdf)
    except (ValueError, ConfigError, CatalogError, OSError) as exc:
        print(f"thinka poster: error: {exc}", file=sys.stderr)
        return 2
    if not contact_lines(org, location, i18n.translator("de")):
        # Printed all the same (the QR code works), but the office should know.
        print(
            f"thinka poster: warning: no address, phone, e-mail, website or office hours of"
            f" {location.name} are filled in ({settings.config_path}): the poster offers no"
            " way to reach you without Telegram",
            file=sys.stderr,
        )
    print(f"{out} ({args.size.upper()}, {url})")
    return 0


def _ask_telegram(settings: Settings) -> str | None:
    """The bot's username from Telegram (getMe), when a token is configured."""
    if not settings.token:
        return None

    async def get_me() -> str:
        async with Bot(settings.token, base_url=settings.api_base_url) as bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except TelegramError as error:
        raise ValueError(f"Telegram did not say the bot's username ({error.message})") from None


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    from dotenv import dotenv_values

    env = Path(".env")
    return (dotenv_values(env).get(name) or "").strip() or None if env.is_file() else None
