"""PDF pages as text or as images to OCR.

pypdfium2 wraps PDFium (Chrome's PDF engine, bundled in its wheels): one well-kept library both
reads a page's text layer and renders a scanned page, and it copes with the damaged and odd PDFs
that scanners and phone apps write. A page whose text layer has words is read directly; a page
without one (a scan) is rendered for OCR.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

# PDFium is not thread-safe: one document at a time in this process.
_PDFIUM = threading.Lock()
_RENDER_DPI = 300
_MIN_LETTERS = 40  # fewer letters in the text layer: a scan with a stray line of metadata


class PdfUnreadable(ValueError):
    """Not a PDF, damaged, or locked with a password."""


class TooManyPages(ValueError):
    pass


@dataclass(frozen=True)
class PdfPage:
    text: str | None  # the text layer, when it has words
    image: Image.Image | None  # the rendered page, when it has none


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF")


def pdf_pages(data: bytes, *, max_pages: int, max_pixels: int) -> list[PdfPage]:
    """Each page's text layer, or the page rendered at up to 300 dpi (less when that would
    exceed `max_pixels`). Raises PdfUnreadable or TooManyPages."""
    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise PdfUnreadable(str(exc)) from None
        try:
            if len(document) > max_pages:
                raise TooManyPages(len(document))
            pages = []
            for index in range(len(document)):
                page = document[index]
                try:
                    pages.append(_page(page, max_pixels))
                finally:
                    page.close()
            return pages
        except pdfium.PdfiumError as exc:
            raise PdfUnreadable(str(exc)) from None
        finally:
            document.close()


def _page(page: pdfium.PdfPage, max_pixels: int) -> PdfPage:
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_bounded()
    finally:
        textpage.close()
    if sum(c.isalpha() for c in text) >= _MIN_LETTERS:
        return PdfPage(text=text, image=None)
    width_pt, height_pt = page.get_size()
    scale = _RENDER_DPI / 72
    area = width_pt * height_pt * scale * scale
    if area > max_pixels:
        scale *= (max_pixels / area) ** 0.5
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        image = bitmap.to_pil().copy()  # the bitmap's memory goes with it
    finally:
        bitmap.close()
    return PdfPage(text=None, image=image)
