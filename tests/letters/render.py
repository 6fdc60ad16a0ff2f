"""Render the test letters as a resident would send them: phone photos (tilted, unevenly lit,
noisy, JPEG, Telegram-sized), scanned PDFs (images only) and PDFs with a text layer.

One layout in millimetres drives two canvases, Pillow for images and fpdf2 for the text-layer
PDF, so every form of a letter carries the same text. The fonts are the DejaVu faces that
matplotlib ships (no download). Everything random comes from a generator seeded by the letter's
key, so the corpus is the same on every machine and every run.
"""

from __future__ import annotations

import importlib.util
import io
import textwrap
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFilter, ImageFont

A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4
PT_MM = MM_PER_INCH / 72


def _font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    assert spec and spec.submodule_search_locations, "matplotlib (dev dependency) is missing"
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


FONTS = {
    "sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    "mono": ("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
}


@dataclass(frozen=True)
class Look:
    """How one letter is put on paper and then photographed or scanned."""

    font: str = "sans"
    size_pt: float = 11.0
    layout: str = "din"  # din: info block right of the address; plain; centered
    form: str = "photo"  # photo | scan-pdf (image-only) | text-pdf (fpdf2)
    dpi: int = 200
    tilt: float = 0.0  # degrees, counter-clockwise
    light: float = 0.0  # 0 … 0.6: how much darker the far corner is
    noise: float = 0.0  # standard deviation of the sensor noise, grey levels
    blur: float = 0.0  # Gaussian radius in px
    jpeg: int | None = None  # JPEG quality; None: PNG
    border: bool = False  # the page lies on a darker table
    max_side: int | None = None  # Telegram's photo compression: long side in px
    keystone: float = 0.0  # the phone held at an angle: the top edge this much narrower


@dataclass(frozen=True)
class Letter:
    key: str
    head: tuple[str, ...]  # institution first, then its address lines
    return_line: str
    address: tuple[str, ...]
    info: tuple[str, ...]  # "Aktenzeichen: …", "Datum: …"
    subject: str
    salutation: str
    body: tuple[str, ...]  # paragraphs; a paragraph starting with "|" is a table row
    closing: tuple[str, ...]
    footer: tuple[str, ...] = ()
    place_date: str | None = None  # "Erfurt, den 02.12.2026" on its own line (plain layout)
    pages: int = 1  # 2: the body continues on a second page
    look: Look = field(default_factory=Look)


class Canvas(Protocol):
    def text(self, x_mm: float, y_mm: float, text: str, size_pt: float, bold: bool) -> None: ...
    def width(self, text: str, size_pt: float, bold: bool) -> float: ...
    def rule(self, x1_mm: float, x2_mm: float, y_mm: float) -> None: ...
    def new_page(self) -> None: ...


def layout(letter: Letter, canvas: Canvas) -> None:
    """Lay the letter out on A4 pages (DIN 5008-like), in millimetres."""
    look = letter.look
    size = look.size_pt
    line = size * PT_MM * 1.45
    left, right = 25.0, 190.0
    y = 18.0
    for i, text in enumerate(letter.head):
        s = size * 1.5 if i == 0 else size * 0.85
        if look.layout == "centered":
            x = (A4_MM[0] - canvas.width(text, s, i == 0)) / 2
        else:
            x = left
        canvas.text(x, y, text, s, i == 0)
        y += s * PT_MM * 1.45
    if look.layout == "centered":
        canvas.rule(left, right, y)
    y = max(y + 6, 48.0)
    canvas.text(left, y, letter.return_line, size * 0.7, False)
    y += line
    address_top = y
    for text in letter.address:
        canvas.text(left, y, text, size, False)
        y += line
    if look.layout == "din":
        info_y = address_top
        for text in letter.info:
            canvas.text(125.0, info_y, text, size * 0.9, False)
            info_y += line
        y = max(y, info_y)
    else:
        y += line
        for text in letter.info:
            canvas.text(left, y, text, size * 0.9, False)
            y += line
    y += line
    if letter.place_date:
        canvas.text(right - canvas.width(letter.place_date, size, False), y, letter.place_date,
                    size, False)  # fmt: skip
        y += line * 1.5
    canvas.text(left, y, letter.subject, size, True)
    y += line * 2
    canvas.text(left, y, letter.salutation, size, False)
    y += line * 1.5
    split = (len(letter.body) + 1) // 2 if letter.pages == 2 else len(letter.body)
    for index, paragraph in enumerate(letter.body):
        if index == split:
            _footer(letter, canvas, size)
            canvas.new_page()
            canvas.text(left, 18.0, f"{letter.head[0]} - Seite 2 von 2", size * 0.8, False)
            y = 32.0
        if paragraph.startswith("|"):
            label, value = (part.strip() for part in paragraph.strip("|").split("|"))
            canvas.text(left + 5, y, label, size, False)
            canvas.text(150.0 - canvas.width(value, size, False), y, value, size, False)
            y += line
            continue
        for text in _wrap(paragraph, canvas, size, right - left):
            canvas.text(left, y, text, size, False)
            y += line
        y += line * 0.6
    y += line * 0.6
    for text in letter.closing:
        canvas.text(left, y, text, size, False)
        y += line * (2.2 if text.startswith("Mit freundlichen") else 1)
    assert y < 272, f"{letter.key}: the text runs into the footer"
    _footer(letter, canvas, size)


def _footer(letter: Letter, canvas: Canvas, size: float) -> None:
    y = 280.0
    for text in letter.footer:
        canvas.text(25.0, y, text, size * 0.65, False)
        y += size * 0.65 * PT_MM * 1.4


def _wrap(paragraph: str, canvas: Canvas, size: float, width_mm: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in paragraph.split():
        candidate = f"{current} {word}".strip()
        if current and canvas.width(candidate, size, False) > width_mm:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


# --- the Pillow canvas -------------------------------------------------------------------------


class PillowCanvas:
    def __init__(self, font: str, dpi: int) -> None:
        self.dpi = dpi
        self.px = dpi / MM_PER_INCH
        regular, bold = FONTS[font]
        self._files = {False: str(_font_dir() / regular), True: str(_font_dir() / bold)}
        self._fonts: dict[tuple[float, bool], ImageFont.FreeTypeFont] = {}
        self.pages: list[Image.Image] = []
        self.new_page()

    def _font(self, size_pt: float, bold: bool) -> ImageFont.FreeTypeFont:
        key = (size_pt, bold)
        if key not in self._fonts:
            pixels = size_pt / 72 * self.dpi
            self._fonts[key] = ImageFont.truetype(self._files[bold], size=max(1, round(pixels)))
        return self._fonts[key]

    def new_page(self) -> None:
        size = (round(A4_MM[0] * self.px), round(A4_MM[1] * self.px))
        self.pages.append(Image.new("L", size, 255))
        self._draw = ImageDraw.Draw(self.pages[-1])

    def text(self, x_mm: float, y_mm: float, text: str, size_pt: float, bold: bool) -> None:
        # y is the baseline, as in fpdf2.
        self._draw.text(
            (x_mm * self.px, y_mm * self.px), text, font=self._font(size_pt, bold), fill=25,
            anchor="ls",
        )  # fmt: skip

    def width(self, text: str, size_pt: float, bold: bool) -> float:
        return self._font(size_pt, bold).getlength(text) / self.px

    def rule(self, x1_mm: float, x2_mm: float, y_mm: float) -> None:
        y = y_mm * self.px
        self._draw.line((x1_mm * self.px, y, x2_mm * self.px, y), fill=60, width=3)


# --- the fpdf2 canvas (a PDF with a real text layer) ---------------------------------------------


class PdfCanvas:
    def __init__(self, font: str) -> None:
        self.pdf = FPDF(unit="mm", format="A4")
        self.pdf.set_auto_page_break(False)
        regular, bold = FONTS[font]
        self.pdf.add_font("letter", "", str(_font_dir() / regular))
        self.pdf.add_font("letter", "B", str(_font_dir() / bold))
        self.pdf.add_page()

    def text(self, x_mm: float, y_mm: float, text: str, size_pt: float, bold: bool) -> None:
        self.pdf.set_font("letter", "B" if bold else "", size_pt)
        self.pdf.text(x_mm, y_mm, text)

    def width(self, text: str, size_pt: float, bold: bool) -> float:
        self.pdf.set_font("letter", "B" if bold else "", size_pt)
        return self.pdf.get_string_width(text)

    def rule(self, x1_mm: float, x2_mm: float, y_mm: float) -> None:
        self.pdf.line(x1_mm, y_mm, x2_mm, y_mm)

    def new_page(self) -> None:
        self.pdf.add_page()


# --- from clean page to photo ------------------------------------------------------------------


def photograph(page: Image.Image, look: Look, rng: np.random.Generator) -> Image.Image:
    """What a phone makes of the page: on a table, tilted, lit from one side, blurred, noisy."""
    if look.border:
        w, h = page.size
        table = Image.new("L", (round(w * 1.08), round(h * 1.06)), 110)
        table.paste(page, ((table.width - w) // 2, (table.height - h) // 2))
        page = table
    fill = 110 if look.border else 255
    if look.keystone:
        page = _keystone(page, look.keystone, fill)
    if look.tilt:
        page = page.rotate(
            look.tilt, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill
        )
    pixels = np.asarray(page, dtype=np.float32)
    if look.light:
        h, w = pixels.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) * 0.5 + 0.5
        ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
        pixels = pixels * (1.0 - look.light * ramp)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if look.blur:
        image = image.filter(ImageFilter.GaussianBlur(look.blur))
    if look.max_side and max(image.size) > look.max_side:
        factor = look.max_side / max(image.size)
        image = image.resize(
            (round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS
        )
    if look.noise:
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + rng.normal(0.0, look.noise, pixels.shape).astype(np.float32)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image


def _keystone(page: Image.Image, amount: float, fill: int) -> Image.Image:
    """The page seen from below its middle: the top edge shrinks by `amount` of the width."""
    w, h = page.size
    inset = amount * w / 2
    # Where each corner of the output comes from in the page: PIL maps output to input.
    seen = [(inset, 0), (w - inset, 0), (w, h), (0, h)]
    source = [(0, 0), (w, 0), (w, h), (0, h)]
    rows = []
    for (x, y), (u, v) in zip(seen, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    targets = [c for point in source for c in point]
    coefficients = np.linalg.solve(np.array(rows, float), np.array(targets, float))
    return page.transform(
        page.size, Image.Transform.PERSPECTIVE, tuple(coefficients), Image.Resampling.BICUBIC,
        fillcolor=fill,
    )  # fmt: skip


def _encode(image: Image.Image, look: Look) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if look.jpeg:
        image.save(buffer, "JPEG", quality=look.jpeg)
        return buffer.getvalue(), ".jpg"
    image.save(buffer, "PNG")
    return buffer.getvalue(), ".png"


def render(letter: Letter, directory: Path) -> list[Path]:
    """The files a resident would send for this letter (one per photo, or one PDF)."""
    look = letter.look
    directory.mkdir(parents=True, exist_ok=True)
    if look.form == "text-pdf":
        canvas = PdfCanvas(look.font)
        layout(letter, canvas)
        path = directory / f"{letter.key}.pdf"
        path.write_bytes(bytes(canvas.pdf.output()))
        return [path]
    rng = np.random.default_rng(zlib.crc32(letter.key.encode()))
    images = PillowCanvas(look.font, look.dpi)
    layout(letter, images)
    shots = [photograph(page, look, rng) for page in images.pages]
    if look.form == "scan-pdf":
        path = directory / f"{letter.key}.pdf"
        # A scanner's PDF: each page one JPEG image, no text layer.
        shots[0].save(
            path, "PDF", resolution=float(look.dpi), save_all=True, append_images=shots[1:],
            quality=look.jpeg or 85,
        )  # fmt: skip
        return [path]
    paths = []
    for number, shot in enumerate(shots, start=1):
        data, suffix = _encode(shot, look)
        path = directory / f"{letter.key}-{number}{suffix}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def plain_text(letter: Letter) -> str:
    """The letter's words in reading order, as a perfect OCR would give them."""
    parts = [*letter.head, letter.return_line, *letter.address, *letter.info]
    if letter.place_date:
        parts.append(letter.place_date)
    parts += [letter.subject, letter.salutation]
    parts += [" ".join(p.strip("|").split("|")) if p.startswith("|") else p for p in letter.body]
    parts += [*letter.closing, *letter.footer]
    return "\n".join(textwrap.dedent(p) for p in parts)
