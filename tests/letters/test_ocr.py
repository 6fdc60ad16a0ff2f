"""Image preparation (no Tesseract needed) and the engine's install and limits."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from bot.letters import ocr

from .corpus import case
from .render import Look, PillowCanvas, layout, photograph


@pytest.fixture(scope="module")
def clean_page() -> Image.Image:
    canvas = PillowCanvas("sans", 200)
    layout(case("jc_mitwirkung").letter, canvas)
    return canvas.pages[0]


@pytest.mark.parametrize("angle", [-7.0, -2.5, 0.0, 1.3, 5.0])
def test_skew_is_measured_to_a_fifth_of_a_degree(clean_page: Image.Image, angle: float) -> None:
    tilted = clean_page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    assert ocr.estimate_skew(tilted) == pytest.approx(-angle, abs=0.2)


def test_skew_is_measured_on_a_dark_noisy_photo(clean_page: Image.Image) -> None:
    look = Look(tilt=4.5, light=0.5, noise=10, border=True)
    photo = photograph(clean_page, look, np.random.default_rng(1))
    assert ocr.estimate_skew(ocr.flatten(photo)) == pytest.approx(-4.5, abs=0.2)


def test_an_empty_page_has_no_skew() -> None:
    assert ocr.estimate_skew(Image.new("L", (800, 1100), 255)) == 0.0


def test_flatten_evens_out_a_shadow() -> None:
    ramp = np.tile(np.linspace(250, 90, 1200, dtype=np.float32), (900, 1))
    flat = np.asarray(ocr.flatten(Image.fromarray(ramp.astype(np.uint8))), dtype=np.float32)
    assert ramp[:, 1100].mean() < 110  # the dark side before
    assert flat[:, 50:1150].min() > 230  # paper is paper everywhere after


def test_prepare_turns_by_exif_and_sizes_the_page(clean_page: Image.Image) -> None:
    small = clean_page.resize((640, 905)).rotate(90, expand=True)  # lying on its side
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90 CW to view": how a phone marks a photo taken sideways
    small.info["exif"] = exif.tobytes()
    small.getexif()[0x0112] = 8
    prepared = ocr.prepare(small)
    assert prepared.mode == "L"
    assert prepared.height > prepared.width  # upright again
    assert max(prepared.size) >= 2400  # enlarged to a size Tesseract reads


def test_ocr_switch() -> None:
    assert ocr.ocr_enabled({})
    assert ocr.ocr_enabled({"THINKA_OCR": "on"})
    for off in ("off", "OFF", "0", "false", "no", " off "):
        assert not ocr.ocr_enabled({"THINKA_OCR": off})


def test_the_german_model_is_installed_by_the_package_requirements() -> None:
    path = ocr.tessdata_dir()
    assert path is not None and (path / "deu.traineddata").is_file()
    assert (ocr.engine_version() or "").startswith("5.")


def test_tesseract_stops_at_its_time_limit(clean_page: Image.Image) -> None:
    prepared = ocr.prepare(clean_page)
    started = time.monotonic()
    with pytest.raises(ocr.OcrTimeout):
        ocr.recognise(prepared, timeout_s=0.001)
    stopped_after = time.monotonic() - started
    # The engine is usable again afterwards.
    started = time.monotonic()
    assert "Jobcenter" in ocr.recognise(prepared, timeout_s=20)
    whole_page = time.monotonic() - started
    # Stopped early: well under a second, or (on a machine busy with other work, where both
    # take longer) well under the time the whole page takes in the same conditions.
    assert stopped_after < max(1.0, 0.75 * whole_page)
