"""extract.py on text: each field, the phrasings letters use, and the traps that would make a
reader invent a deadline. Fast: no OCR."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.letters.extract import (
    Basis,
    SenderKind,
    amount_claimed,
    clean,
    deadlines,
    find_dates,
    letter_date,
    reference,
    sender_kind,
)

from .corpus import CASES, RECEIVED
from .render import plain_text

R = date(2026, 12, 4)  # received
DATED = date(2026, 12, 1)


def due(text: str, *, dated: date | None = DATED) -> list[tuple[date | None, bool]]:
    return [(d.due, d.certain) for d in deadlines(text, received=R, dated=dated)]


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("am 15.12.2026.", date(2026, 12, 15)),
        ("am 5.1.2027", date(2027, 1, 5)),
        ("am 15.12.26", date(2026, 12, 15)),
        ("15. Dezember 2026", date(2026, 12, 15)),
        ("15.Dezember 2026", date(2026, 12, 15)),
        ("3. Dez. 2026", date(2026, 12, 3)),
        ("1. März 2027", date(2027, 3, 1)),
        ("2. Sept. 2026", date(2026, 9, 2)),
        ("2026-12-15", date(2026, 12, 15)),
        ("15 . 12 . 2026", date(2026, 12, 15)),
    ],
)
def test_dates_in_the_formats_letters_use(text: str, expected: date) -> None:
    assert [m.day for m in find_dates(text)] == [expected]


@pytest.mark.parametrize(
    "text",
    ["31.02.2026", "15.13.2026", "Betrag 1.234,56 €", "§ 66.1", "Version 1.2.3", "Tel. 0361 12.34"],
)
def test_no_date_where_none_is_written(text: str) -> None:
    assert find_dates(text) == []


def test_a_date_without_year_takes_the_next_such_day() -> None:
    [dec] = find_dates("bis 15.12.", reference_year_from=date(2026, 12, 1))
    [jan] = find_dates("bis 15.1.", reference_year_from=date(2026, 12, 1))
    assert (dec.day, jan.day) == (date(2026, 12, 15), date(2027, 1, 15))
    assert not dec.year_written
    assert find_dates("bis 15.12.") == []  # no year to infer it from: not a date we know


def test_time_after_a_yearless_date_is_not_its_year() -> None:
    [m] = find_dates("am 15.12. 10:00 Uhr", reference_year_from=date(2026, 12, 1))
    assert m.day == date(2026, 12, 15)


# --- sender ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        ("Jobcenter Erfurt\nMax-Reger-Straße 1", SenderKind.JOBCENTER),
        ("Stadtverwaltung Erfurt\nAusländerbehörde", SenderKind.AUSLAENDERBEHOERDE),
        ("Landkreis Gotha\nAmt für Migration", SenderKind.AUSLAENDERBEHOERDE),
        ("Familienkasse Bayern Nord", SenderKind.FAMILIENKASSE),
        ("AOK PLUS\nDie Gesundheitskasse", SenderKind.KRANKENKASSE),
        ("BARMER\nPostfach 110704", SenderKind.KRANKENKASSE),
        ("Deutsche Rentenversicherung Bund", SenderKind.RENTENVERSICHERUNG),
        ("Amtsgericht Aschersleben\nZentrales Mahngericht", SenderKind.GERICHT),
        ("Sozialgericht Erfurt", SenderKind.GERICHT),
        ("Muster Inkasso GmbH", SenderKind.INKASSO),
        ("Hausverwaltung Krämer", SenderKind.VERMIETER),
        ("Wohnungsgenossenschaft Erfurt-Nord eG", SenderKind.VERMIETER),
        ("SWE Stadtwerke Erfurt", SenderKind.STADTWERKE),
        ("Finanzamt Erfurt", SenderKind.FINANZAMT),
        ("Staatliche Regelschule Erfurt-Rieth", SenderKind.SCHULE),
        ("Sportverein Rieth e.V.", SenderKind.SONSTIGE),
    ],
)
def test_sender_from_the_letterhead(head: str, kind: SenderKind) -> None:
    text = f"{head}\n\nHerrn Max Muster\n\nSehr geehrter Herr Muster,\nwir schreiben Ihnen.\n"
    assert sender_kind(text) is kind


def test_the_institution_in_the_head_outweighs_what_the_body_mentions() -> None:
    text = (
        "Jobcenter Erfurt\n\nSehr geehrte Frau Muster,\nbitte legen Sie den Mietvertrag, die "
        "Betriebskostenabrechnung Ihres Vermieters, die Rechnung der Stadtwerke und den "
        "Bescheid der Krankenkasse vor.\nMit freundlichen Grüßen\nIhr Jobcenter"
    )
    assert sender_kind(text) is SenderKind.JOBCENTER


def test_a_register_court_in_a_company_footer_is_no_court_letter() -> None:
    text = (
        "Muster Inkasso GmbH\n\nSehr geehrte Frau Muster,\nbitte zahlen Sie.\n"
        "Mit freundlichen Grüßen\nMuster Inkasso GmbH\n"
        "Registergericht: Amtsgericht Berlin HRB 12345, Amtsgericht Berlin HRB 12345"
    )
    assert sender_kind(text) is SenderKind.INKASSO


def test_a_passing_mention_is_no_sender() -> None:
    assert sender_kind("Hallo,\nwie besprochen schicke ich die Miete.") is SenderKind.SONSTIGE
    assert sender_kind("") is SenderKind.SONSTIGE


# --- letter date -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Datum: 02.12.2026", date(2026, 12, 2)),
        ("Erfurt, den 27. November 2026", date(2026, 11, 27)),
        ("Erfurt, 30.11.2026", date(2026, 11, 30)),
        ("30. November 2026", date(2026, 11, 30)),
        ("Datum 2026-11-30", date(2026, 11, 30)),
    ],
)
def test_letter_date(line: str, expected: date) -> None:
    text = f"Finanzamt Erfurt\nHerrn Muster\n{line}\nBetreff\nSehr geehrter Herr Muster,\ntext"
    assert letter_date(text) == expected


def test_a_date_the_letter_refers_to_is_not_its_date() -> None:
    text = (
        "Jobcenter Erfurt\nIhr Antrag vom 12.11.2026\nSehr geehrter Herr Muster,\n"
        "Ihr Schreiben vom 20.11.2026 ist eingegangen. Bitte zahlen Sie bis zum 15.12.2026."
    )
    assert letter_date(text) is None


def test_the_labelled_date_wins_over_a_lone_one() -> None:
    text = "Amt\n01.01.2026\nDatum: 02.12.2026\nSehr geehrte Damen und Herren,\n"
    assert letter_date(text) == date(2026, 12, 2)


# --- reference ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "label", "value"),
    [
        ("Aktenzeichen: 2 C 345/26", "Aktenzeichen", "2 C 345/26"),
        ("Az.: S 12 AS 1234/26", "Aktenzeichen", "S 12 AS 1234/26"),
        ("Geschäftszeichen: 32.1-AR-77812", "Geschäftszeichen", "32.1-AR-77812"),
        ("BG-Nummer: 07301BG0012345", "BG-Nummer", "07301BG0012345"),
        ("BG-Nr. 07301BG0012345", "BG-Nummer", "07301BG0012345"),
        ("Kundennummer 4711-0815", "Kundennummer", "4711-0815"),
        ("Kunden-Nr.: KD-55831207", "Kundennummer", "KD-55831207"),
        ("Steuernummer: 151/234/56789", "Steuernummer", "151/234/56789"),
        ("Versicherungsnummer: 12 150385 K 123", "Versicherungsnummer", "12 150385 K 123"),
        ("Vertragskonto: 200123456789", "Vertragsnummer", "200123456789"),
    ],
)
def test_reference(line: str, label: str, value: str) -> None:
    found = reference(f"Absender\n{line}\nSehr geehrte Damen und Herren,\nText.")
    assert found is not None
    assert (found.label, found.value) == (label, value)


def test_the_reference_stops_before_running_text_and_needs_digits() -> None:
    found = reference("Aktenzeichen 12 M 3456/26 Bitte stets angeben")
    assert found is not None and found.value == "12 M 3456/26"
    assert reference("Kundennummer: bitte angeben") is None
    assert reference("Wir haben Ihre Kundennummer geändert.") is None


@pytest.mark.parametrize("misread", ["073018G0012345", "073018BG0012345"])
def test_a_bg_number_misread_by_ocr_is_repaired(misread: str) -> None:
    found = reference(f"BG-Nummer: {misread}")
    assert found is not None and found.value == "07301BG0012345"
    # The same shape under another label is left as written.
    found = reference(f"Kundennummer: {misread}")
    assert found is not None and found.value == misread


def test_the_file_number_of_the_authority_comes_before_a_customer_number() -> None:
    found = reference("Kundennummer: 4471203\nAktenzeichen: AB-2026-1")
    assert found is not None and found.label == "Aktenzeichen"


# --- amount ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bitte überweisen Sie den Betrag von 412,50 € bis zum 31.12.2026.", "412.50"),
        ("Der offene Betrag beträgt EUR 1.024,00.", "1024.00"),
        ("Bitte zahlen Sie 39,99 Euro.", "39.99"),
        ("Hauptforderung 200,00 €\nInkassokosten 58,50 €\nGesamtforderung 258,50 €", "258.50"),
        ("Rechnungsbetrag 74,90 €\nMahngebühr 5,00 €\nSumme 79,90 €", "79.90"),
        ("Kosten 1.843,40 €\nVorauszahlungen 1.656,00 €\nNachzahlung 187,40 €", "187.40"),
        ("Der Mietrückstand beträgt 1.024,- €.", "1024.00"),
    ],
)
def test_amount_claimed(text: str, expected: str) -> None:
    assert amount_claimed(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "Sie erhalten monatlich 563,00 €.",
        "Ihr Guthaben von 45,10 € überweisen wir auf Ihr Konto.",
        "Die Miete erhöht sich um 42,00 € auf 512,00 € monatlich.",
        "Wir haben 2.950 kWh abgerechnet.",
        "Ein Betrag ohne Währung: 12,50.",
        "Die Aufenthaltserlaubnis ist gültig.",
    ],
)
def test_no_amount_claimed(text: str) -> None:
    assert amount_claimed(text) is None


# --- deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_date", "wording"),
    [
        ("Bitte reichen Sie die Unterlagen bis zum 15.12.2026 ein.", (2026, 12, 15), "bis zum"),
        ("Bitte zahlen Sie bis 18.12.2026.", (2026, 12, 18), "bis 18.12.2026"),
        ("Zahlen Sie spätestens am 11.12.2026.", (2026, 12, 11), "spätestens am"),
        ("Antworten Sie bis spätestens 8. Januar 2027.", (2027, 1, 8), "bis spätestens"),
        ("Sprechen Sie spätestens bis zum 20.01.2027 vor.", (2027, 1, 20), "spätestens bis"),
        ("Die Frist zur Abgabe endet am 31.12.2026.", (2026, 12, 31), "Frist zur Abgabe endet"),
        ("Die Widerspruchsfrist endet am 15.01.2027.", (2027, 1, 15), "Widerspruchsfrist"),
        ("Frist: 22.12.2026", (2026, 12, 22), "Frist: 22.12.2026"),
        ("Der Betrag ist fällig am 21.12.2026.", (2026, 12, 21), "fällig am"),
        ("Bitte bis Freitag, den 11.12.2026 abgeben.", (2026, 12, 11), "bis Freitag, den"),
        ("Teilen Sie den Stand bis 2026-12-20 mit.", (2026, 12, 20), "bis 2026-12-20"),
        ("Bitte antworten Sie bis zum 15.12. schriftlich.", (2026, 12, 15), "bis zum 15.12."),
    ],
)
def test_a_written_deadline_is_certain(
    text: str, expected_date: tuple[int, int, int], wording: str
) -> None:
    [found] = deadlines(text, received=R, dated=DATED)
    assert (found.due, found.certain, found.basis) == (date(*expected_date), True, Basis.TEXT)
    assert wording in found.wording
    assert found.wording in clean(text)  # the letter's own words, not ours


@pytest.mark.parametrize(
    ("text", "expected_date", "basis"),
    [
        ("Zahlen Sie innerhalb von 14 Tagen nach Zugang dieses Schreibens.", (2026, 12, 18), "r"),
        ("Reichen Sie die Unterlagen binnen zwei Wochen ein.", (2026, 12, 18), "r"),
        ("Widerspruch innerhalb eines Monats nach Bekanntgabe.", (2027, 1, 4), "r"),
        ("Widerspruch binnen zwei Wochen seit der Zustellung.", (2026, 12, 18), "r"),
        ("Gleichen Sie aus innerhalb einer Woche nach Erhalt.", (2026, 12, 11), "r"),
        (
            "Äußern Sie sich innerhalb von zwei Wochen ab Datum dieses Schreibens.",
            (2026, 12, 15),
            "l",
        ),
        ("Melden Sie sich innerhalb von 5 Arbeitstagen.", (2026, 12, 11), "r"),
        ("Melden Sie sich innerhalb von 6 Werktagen.", (2026, 12, 11), "r"),
        ("Wir setzen Ihnen eine Frist von 10 Tagen.", (2026, 12, 14), "r"),
        ("Holen Sie ihn innerhalb von drei Monaten ab.", (2027, 3, 4), "r"),
    ],
)
def test_a_period_is_an_estimate_from_receipt_or_letter_date(
    text: str, expected_date: tuple[int, int, int], basis: str
) -> None:
    [found] = deadlines(text, received=R, dated=DATED)
    assert found.due == date(*expected_date)
    assert not found.certain
    assert found.basis is (Basis.RECEIVED if basis == "r" else Basis.LETTER_DATE)
    assert found.wording in clean(text)


def test_months_end_at_the_end_of_a_shorter_month() -> None:
    [found] = deadlines("innerhalb eines Monats nach Zugang", received=date(2027, 1, 31))
    assert found.due == date(2027, 2, 28)


def test_a_period_from_the_letter_date_without_one_has_no_date() -> None:
    [found] = deadlines("innerhalb von 10 Tagen ab Datum dieses Schreibens", received=R)
    assert (found.due, found.basis) == (None, Basis.LETTER_DATE)


def test_period_and_date_in_one_sentence_keep_the_written_date() -> None:
    text = "Zahlen Sie innerhalb von 14 Tagen, also bis zum 17.12.2026."
    assert due(text) == [(date(2026, 12, 17), True)]


def test_a_deadline_repeated_is_reported_once() -> None:
    text = "Zahlen Sie bis zum 15.12.2026. Wir erinnern: bis zum 15.12.2026 muss es da sein."
    assert due(text) == [(date(2026, 12, 15), True)]


@pytest.mark.parametrize(
    "text",
    [
        "Bewilligungszeitraum vom 01.01.2027 bis 30.06.2027.",
        "Wir befreien Sie vom 01.12.2026 bis zum 31.12.2026 von Zuzahlungen.",
        "Abrechnungszeitraum 01.11.2025 bis 31.10.2026.",
        "Die Klassenfahrt ist vom 19.04.2027 - 23.04.2027.",
        "Ihre Aufenthaltserlaubnis ist gültig bis 31.01.2027.",
        "Die Halle ist bis 03.01.2027 geschlossen.",
        "Ihr Termin ist am Donnerstag, 10.12.2026 um 09:30 Uhr.",
        "Die neue Miete gilt ab dem 01.03.2027.",
        "Ihr Schreiben vom 20.11.2026 haben wir erhalten.",
        "Die Stromversorgung wird ab dem 23.12.2026 unterbrochen.",
        "In den letzten zwei Wochen fehlte Ihr Sohn an vier Tagen.",
        "Die Leihfrist ist abgelaufen.",
        "Sprechzeiten: Montag bis Freitag 8 bis 12 Uhr.",
        "Ihr Sohn ist geboren am 15.12.2015.",
    ],
)
def test_no_deadline_invented(text: str) -> None:
    assert due(text) == []


def test_a_sentence_across_lines_and_a_broken_word_are_still_read() -> None:
    text = "Bitte reichen Sie die Unter-\nlagen bis\nzum 15. Dezem-\nber 2026 ein."
    [found] = deadlines(text, received=R)
    assert found.due == date(2026, 12, 15)
    assert "Unterlagen" in found.sentence


def test_the_ordinal_dot_of_a_date_does_not_end_the_sentence() -> None:
    [found] = deadlines("Bitte bis zum 15. Dezember 2026 zahlen.", received=R)
    assert found.sentence == "Bitte bis zum 15. Dezember 2026 zahlen."


# --- the corpus' own words: what a perfect OCR would give ---------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.letter.key)
def test_every_corpus_letter_from_its_exact_text(case) -> None:
    text = plain_text(case.letter)
    dated = letter_date(text)
    found = reference(text)
    expected = case.expected
    assert sender_kind(text) is expected.sender
    assert dated == expected.letter_date
    assert (found.value if found else None) == expected.reference
    assert amount_claimed(text) == expected.amount
    got = tuple((d.due, d.certain) for d in deadlines(text, received=RECEIVED, dated=dated))
    assert got == expected.deadlines
