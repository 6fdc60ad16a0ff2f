"""Posters and flyers: the PDF renders, its QR code scans back to the deep link, every language
is on it (Arabic shaped and extractable in logical order), nothing runs off the printable area,
and no placeholder of the organisation file is ever printed."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from bot.core.config import BUNDLED_CONFIG
from bot.core.i18n import LANGUAGES, I18n
from bot.org.orgdata import Organisation, load_organisation
from bot.outreach.deeplinks import build_payload, deep_link_url, district_slugs
from bot.outreach.poster import HEADLINE, NO_TELEGRAM, SCAN, poster_main, render_poster

BOT = "thinka_erfurt_bot"
HOURS = """hours = [
  { weekday = "tue", opens = "09:00", closes = "12:00" },
  { weekday = "thu", opens = "13:00", closes = "16:00" },
]"""


def filled_in(tmp: Path, hours: str = HOURS) -> Path:
    """The bundled organisation file with Rieth's address, phone and hours and the office's
    website entered (the e-mails stay placeholders)."""
    text = BUNDLED_CONFIG.read_text("utf-8")
    rieth = text.index('key = "rieth"')
    head, tail = text[:rieth], text[rieth:]
    tail = tail.replace(
        'address = "TODO: Straße, Hausnummer, 99089 Erfurt eintragen"',
        'address = "Musterstraße 12, 99089 Erfurt"',
        1,
    )
    tail = tail.replace('phone = "TODO: Telefonnummer eintragen"', 'phone = "0361 555 0100"', 1)
    tail = tail.replace("hours = []", hours, 1)
    head = head.replace('website = "TODO: Webseite eintragen"', 'website = "thinka-erfurt.de"')
    path = tmp / "org.toml"
    path.write_text(head + tail, "utf-8")
    return path


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Europe/Berlin"))


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Organisation:
    return load_organisation(filled_in(tmp_path_factory.mktemp("org")))


def poster(org: Organisation, i18n: I18n, language=None, size="a4", source="treppenhaus-2027"):
    payload = build_payload("rieth", language, source, districts=district_slugs(org.locations))
    url = deep_link_url(BOT, payload)
    pdf = render_poster(
        url=url, org=org, location=org.location("rieth"), i18n=i18n, language=language, size=size
    )
    return url, pdf


@pytest.fixture(scope="module")
def a4(org, i18n):
    return poster(org, i18n)


@pytest.fixture(scope="module")
def a6_arabic(org, i18n):
    return poster(org, i18n, language="ar", size="a6")


def text_of(pdf: bytes) -> str:
    """pypdf's extraction, lines joined: a wrapped sentence reads as one again."""
    import io

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return " ".join(page.extract_text().split())


def rendered(pdf: bytes, dpi: int):
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        return document[0].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        document.close()


@pytest.mark.parametrize(("which", "size_pt"), [("a4", (595, 842)), ("a6_arabic", (298, 420))])
def test_one_page_in_the_paper_size(request, which, size_pt):
    _url, pdf = request.getfixturevalue(which)
    document = pdfium.PdfDocument(pdf)
    try:
        width, height = document[0].get_size()
    finally:
        document.close()
    assert (round(width), round(height)) == size_pt


@pytest.mark.parametrize(("which", "dpi"), [("a4", 100), ("a6_arabic", 150)])
def test_the_qr_code_scans_back_to_the_deep_link(request, which, dpi):
    url, pdf = request.getfixturevalue(which)
    found = zxingcpp.read_barcodes(rendered(pdf, dpi))
    assert [(b.format, b.text) for b in found] == [(zxingcpp.BarcodeFormat.QRCode, url)]
    assert "start=rieth-" in url


def test_every_language_says_its_lines(a4, i18n):
    url, pdf = a4
    text = text_of(pdf)
    for language in LANGUAGES:
        tr = i18n.translator(language)
        for msgid in (HEADLINE, SCAN, NO_TELEGRAM):
            assert tr._(msgid) in text, (language, msgid)
    assert "Th.INKA Rieth" in text and "MitMenschen e.V." in text
    assert url in text  # for those who type it


@pytest.mark.parametrize("which", ["a4", "a6_arabic"])
def test_arabic_is_extracted_in_logical_order(request, i18n, which):
    _url, pdf = request.getfixturevalue(which)
    ar = i18n.translator("ar")
    pypdf_text = text_of(pdf)
    document = pdfium.PdfDocument(pdf)
    try:
        pdfium_text = " ".join(document[0].get_textpage().get_text_range().split())
    finally:
        document.close()
    for msgid in (HEADLINE, SCAN):
        line = ar._(msgid)
        assert re.search(r"[\u0600-\u06ff]", line)
        assert line in pypdf_text
        assert line in pdfium_text
        assert line[::-1] not in pypdf_text  # visual order would read backwards


def test_arabic_is_shaped_with_contextual_forms(a4):
    """HarfBuzz picks an initial, a medial and a final form of lam (ل) in the poster's Arabic:
    three glyphs that the font's ToUnicode map all reads back as U+0644."""
    import io

    reader = PdfReader(io.BytesIO(a4[1]))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    forms = set()
    for font in fonts.values():
        cmap = font.get_object()["/ToUnicode"].get_object().get_data().decode("ascii")
        forms |= {
            g for g, u in re.findall(r"<([0-9A-F]{4})>\s*<([0-9A-F]{4})>", cmap) if u == "0644"
        }
    assert len(forms) >= 3


def test_the_contacts_are_printed_and_placeholders_never(a4, i18n):
    text = text_of(a4[1])
    assert "Musterstraße 12, 99089 Erfurt" in text
    assert "0361 555 0100" in text
    assert "↗ thinka-erfurt.de" in text  # the website, for those without Telegram
    assert "Sprechzeiten: Di. 09:00–12:00 · Do. 13:00–16:00" in text
    assert "TODO" not in text and "eintragen" not in text  # the e-mail is still a placeholder
    assert "✉" not in text


def test_a_poster_from_the_bundled_file_prints_no_placeholder(i18n):
    org = load_organisation(BUNDLED_CONFIG)
    assert any(p.startswith("locations[1]") for p in org.placeholders)
    _url, pdf = poster(org, i18n, size="a6")
    text = text_of(pdf)
    assert "TODO" not in text and "eintragen" not in text
    # With no way to reach the office but Telegram, the poster does not promise one.
    for language in LANGUAGES:
        assert i18n.translator(language)._(NO_TELEGRAM) not in text
    assert i18n.translator("uk")._(SCAN) in text


def test_the_arabic_poster_starts_with_arabic_and_its_hours_read_right_to_left(a6_arabic, i18n):
    text = text_of(a6_arabic[1])
    arabic = text.index(i18n.translator("ar")._(HEADLINE))
    assert arabic < text.index(i18n.translator("de")._(HEADLINE))
    assert "rieth-ar-treppenhaus-2027" in a6_arabic[0]
    # The times are isolated from the Arabic around them, so each range keeps its order.
    assert "09:00–12:00" in text and "13:00–16:00" in text
    assert "12:00–09:00" not in text


@pytest.mark.parametrize("size", ["a4", "a6"])
def test_nothing_runs_into_the_page_margin_even_with_long_hours(tmp_path, i18n, size):
    week = ", ".join(
        f'{{ weekday = "{d}", opens = "08:00", closes = "11:30" }}, '
        f'{{ weekday = "{d}", opens = "13:00", closes = "18:30" }}'
        for d in ("mon", "tue", "wed", "thu", "fri", "sat")
    )
    org = load_organisation(filled_in(tmp_path, f"hours = [{week}]"))
    _url, pdf = poster(org, i18n, language="ru", size=size, source="x" * 40)
    image = rendered(pdf, 72 if size == "a4" else 144)
    width, height = image.size
    edge = int(width * 0.03)  # inside the 14 mm (A4) or 6 mm (A6) margin
    for box in (
        (0, 0, width, edge),
        (0, height - edge, width, height),
        (0, 0, edge, height),
        (width - edge, 0, width, height),
    ):
        assert image.crop(box).getextrema() == (255, 255), (size, box)
    assert "пн 08:00–11:30" in text_of(pdf) and "сб 13:00–18:30" in text_of(pdf)


# -- command line ------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("THINKA_CONFIG", str(filled_in(tmp_path)))
    monkeypatch.setenv("THINKA_BOT_USERNAME", BOT)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def test_poster_main_writes_the_pdf_named_after_its_link(cli_env, capsys):
    argv = ["--district", "Rieth", "--source", "Kita Süd", "--lang", "uk", "--size", "a6"]
    assert poster_main(argv) == 0
    out = cli_env / "poster-rieth-uk-kita-sued-a6.pdf"
    assert out.read_bytes().startswith(b"%PDF-")
    assert "start=rieth-uk-kita-sued" in capsys.readouterr().out
    found = zxingcpp.read_barcodes(rendered(out.read_bytes(), 150))
    assert found[0].text == f"https://t.me/{BOT}?start=rieth-uk-kita-sued"


def test_poster_main_takes_the_bot_and_the_file_from_its_options(cli_env, capsys, monkeypatch):
    monkeypatch.delenv("THINKA_BOT_USERNAME")
    out = cli_env / "flyer.pdf"
    assert (
        poster_main(["--district", "berliner_platz", "--bot", "@other_bot", "--out", str(out)]) == 0
    )
    assert "https://t.me/other_bot?start=berliner_platz" in capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF-")


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--district", "moabit"], "unknown district"),
        (["--district", "rieth", "--source", "x" * 60], "Telegram allows 64"),
        (["--district", "rieth", "--size", "a3"], "invalid choice"),
        (["--district", "rieth", "--bot", "not a bot"], "bot username"),
        ([], "required"),
    ],
)
def test_poster_main_refuses_bad_input_in_one_line(cli_env, capsys, argv, problem):
    assert poster_main(argv) == 2
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1 and err.startswith("thinka poster: error:")
    assert not list(cli_env.glob("*.pdf"))


def test_poster_main_needs_the_bot_username(cli_env, capsys, monkeypatch):
    monkeypatch.delenv("THINKA_BOT_USERNAME")
    assert poster_main(["--district", "rieth"]) == 2
    assert "THINKA_BOT_USERNAME" in capsys.readouterr().err


def test_poster_main_warns_when_the_poster_offers_no_way_without_telegram(
    cli_env, capsys, monkeypatch
):
    monkeypatch.setenv("THINKA_CONFIG", str(BUNDLED_CONFIG))  # every contact still a TODO
    assert poster_main(["--district", "rieth", "--out", str(cli_env / "p.pdf")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("thinka poster: warning:") and err.count("\n") == 1
    assert "without Telegram" in err and (cli_env / "p.pdf").is_file()
    monkeypatch.setenv("THINKA_CONFIG", str(filled_in(cli_env)))  # nothing to warn about
    assert poster_main(["--district", "rieth"]) == 0
    assert capsys.readouterr().err == ""


async def test_poster_asks_telegram_for_the_bots_name_when_only_the_token_is_set(tmp_path, sandbox):
    from tests.test_cli import cli

    code, out, err = await cli(
        tmp_path,
        "poster",
        "--district",
        "rieth",
        "--source",
        "Kita Süd",
        TELEGRAM_BOT_TOKEN=sandbox.token,
        TELEGRAM_API_BASE_URL=sandbox.base_url,
    )
    assert code == 0, err
    url = "https://t.me/thinka_sandbox_bot?start=rieth-kita-sued"
    assert url in out
    found = zxingcpp.read_barcodes(
        rendered((tmp_path / "poster-rieth-kita-sued-a4.pdf").read_bytes(), 100)
    )
    assert [b.text for b in found] == [url]
    code, _, err = await cli(
        tmp_path,
        "poster",
        "--district",
        "rieth",
        TELEGRAM_BOT_TOKEN="999999:" + "A" * 35,  # a token Telegram does not know
        TELEGRAM_API_BASE_URL=sandbox.base_url,
    )
    assert code == 2 and err.count("\n") == 1 and "username" in err
