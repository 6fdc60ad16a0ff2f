"""`read-letter` as an operator meets it: main(argv) with real files, output and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.letters.cli import format_reading, main
from bot.letters.extract import Basis, Deadline, SenderKind
from bot.letters.reading import Failure, LetterReading, PageFailure

Rendered = Callable[[str], list[Path]]


def test_human_readable_lines(rendered: Rendered, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*map(str, rendered("fa_bescheid")), "--received", "2026-12-04"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Gelesen:       1 Seite(n)",
        "Absender:      Finanzamt",
        "Datum:         30.11.2026",
        "Zeichen:       151/234/56789 (Steuernummer)",
        "Betrag:        318,00 €",
        "Frist:         07.01.2027: „spätestens am 07.01.2027“",
        "Frist:         ca. 04.01.2027 (geschätzt ab Eingang):"
        " „innerhalb eines Monats nach Bekanntgabe“",
    ]


def test_format_of_large_amounts_estimates_and_failures() -> None:
    reading = LetterReading(
        pages_read=1,
        failures=(PageFailure(2, 0, Failure.NOT_A_DOCUMENT),),
        sender=SenderKind.VERMIETER,
        letter_date=None,
        reference=None,
        amount=Decimal("1024.5"),
        deadlines=(
            Deadline("innerhalb von 10 Tagen ab Datum", None, Basis.LETTER_DATE, "…"),
            Deadline("binnen 10 Tagen ab Datum", date(2026, 12, 7), Basis.LETTER_DATE, "…"),
        ),
    )
    text = format_reading(reading, [Path("a.jpg"), Path("b.heic")])
    assert "Nicht gelesen: b.heic: kein Bild und kein lesbares PDF" in text
    assert "Datum:         -" in text and "Zeichen:       -" in text
    assert "Betrag:        1.024,50 €" in text
    assert "Beginn unbekannt" in text
    assert "ca. 07.12.2026 (geschätzt ab Briefdatum)" in text


def test_json_of_a_two_page_text_pdf_and_photo(
    rendered: Rendered, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [*rendered("fa_bescheid"), *rendered("kk_befreiung")]  # pages of one "letter"
    assert main([*map(str, files), "--json", "--received", "2026-12-04"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["pages_read"] == 2
    assert data["sender"]["kind"] == "finanzamt"  # the first page's letterhead
    assert data["reference"] == {"label": "Steuernummer", "value": "151/234/56789"}
    assert data["amount"] == {"value": "318.00", "currency": "EUR"}
    certain = [d for d in data["deadlines"] if d["certain"]]
    estimates = [d for d in data["deadlines"] if not d["certain"]]
    assert [(d["date"], d["wording"]) for d in certain] == [
        ("2027-01-07", "spätestens am 07.01.2027")
    ]
    assert [(d["date"], d["basis"]) for d in estimates] == [("2027-01-04", "received")]


def test_a_bad_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "letter.jpg"
    bad.write_bytes(b"this is no photo")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"thinka read-letter: {bad}: kein Bild und kein lesbares PDF"]
    assert main([str(tmp_path / "missing.pdf")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--json"]) == 2  # no file at all
    assert main([str(bad), "--received", "tomorrow"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_ocr_off_is_honoured(
    rendered: Rendered, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THINKA_OCR", "off")
    assert main([str(p) for p in rendered("jc_mitwirkung")]) == 1
    captured = capsys.readouterr()
    assert "Texterkennung ist ausgeschaltet" in captured.err
    assert "Absender" not in captured.out
