"""The test letters: 39 German official letters with what a social worker should read off them.

Senders, layouts, date formats and deadline phrasings are those residents bring to Th.INKA; the
traps are the ones that make a reader invent a deadline (a period "vom … bis …", "gültig bis",
an appointment, "ab dem …"). Names, numbers and addresses are made up. Each letter states its
expected fields; deadlines counted from receipt assume the letter arrived on RECEIVED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bot.letters.extract import SenderKind as K

from .render import Letter, Look

RECEIVED = date(2026, 12, 4)  # a Friday


@dataclass(frozen=True)
class Expected:
    sender: K
    letter_date: date | None
    reference: str | None
    amount: Decimal | None
    deadlines: tuple[tuple[date, bool], ...]  # (date, certain)


@dataclass(frozen=True)
class Case:
    letter: Letter
    expected: Expected


def D(y: int, m: int, d: int) -> date:  # reads like a date literal
    return date(y, m, d)


def E(s: str) -> Decimal:
    return Decimal(s)


GREET = ("Mit freundlichen Grüßen",)
RESIDENT_M = ("Herrn", "Ahmad Karimi", "Berliner Straße 12", "99091 Erfurt")
RESIDENT_F = ("Frau", "Olena Petrenko", "Moskauer Platz 7", "99091 Erfurt")
RESIDENT_R = ("Familie", "Haddad", "Warschauer Straße 3", "99089 Erfurt")
RESIDENT_S = ("Herrn", "Dmitri Sokolow", "Rieth-Straße 28", "99089 Erfurt")
RECHTSBEHELF = (
    "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach "
    "Bekanntgabe Widerspruch erhoben werden. Der Widerspruch ist schriftlich oder zur "
    "Niederschrift bei der oben genannten Stelle einzulegen."
)
ONE_MONTH = D(2027, 1, 4)  # RECEIVED + 1 month
TWO_WEEKS = D(2026, 12, 18)  # RECEIVED + 14 days

CASES: list[Case] = [
    # --- Jobcenter ---------------------------------------------------------------------------
    Case(
        Letter(
            key="jc_mitwirkung",
            head=("Jobcenter Erfurt", "Max-Reger-Straße 1", "99096 Erfurt"),
            return_line="Jobcenter Erfurt, Max-Reger-Straße 1, 99096 Erfurt",
            address=RESIDENT_M,
            info=("BG-Nummer: 07301BG0012345", "Datum: 02.12.2026"),
            subject="Aufforderung zur Mitwirkung",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "für die Prüfung Ihres Weiterbewilligungsantrags auf Bürgergeld benötigen wir "
                "noch folgende Unterlagen: Kontoauszüge der letzten drei Monate und den "
                "aktuellen Mietvertrag.",
                "Bitte reichen Sie die Unterlagen bis zum 15. Dezember 2026 ein.",
                "Wenn Sie die Unterlagen nicht fristgerecht einreichen, können die Leistungen "
                "ganz oder teilweise versagt werden (§ 66 Erstes Buch Sozialgesetzbuch).",
            ),
            closing=(*GREET, "Ihr Jobcenter Erfurt"),
            look=Look(font="sans"),
        ),
        Expected(K.JOBCENTER, D(2026, 12, 2), "07301BG0012345", None, ((D(2026, 12, 15), True),)),
    ),
    Case(
        Letter(
            key="jc_einladung",
            head=("Jobcenter Erfurt", "Team Integration", "Juri-Gagarin-Ring 60, 99084 Erfurt"),
            return_line="Jobcenter Erfurt, Juri-Gagarin-Ring 60, 99084 Erfurt",
            address=RESIDENT_F,
            info=("Kundennummer: 073D456789", "Datum: 01.12.2026"),
            subject="Einladung zu einem persönlichen Gespräch",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "bitte kommen Sie am Donnerstag, 10.12.2026 um 09:30 Uhr in das Jobcenter "
                "Erfurt, Zimmer 2.14, um mit mir über Ihre berufliche Situation zu sprechen.",
                "Bitte bringen Sie Ihren Lebenslauf und Ihre Zeugnisse mit. Wenn Sie den "
                "Termin nicht wahrnehmen können, melden Sie sich bitte vorher telefonisch.",
            ),
            closing=(*GREET, "Anna Schulz", "Arbeitsvermittlerin"),
            look=Look(tilt=2.5, noise=8, jpeg=70, blur=0.6),
        ),
        Expected(K.JOBCENTER, D(2026, 12, 1), "073D456789", None, ()),
    ),
    Case(
        Letter(
            key="jc_erstattung",
            head=("Jobcenter Erfurt", "Leistungsabteilung", "Max-Reger-Straße 1, 99096 Erfurt"),
            return_line="Jobcenter Erfurt, Max-Reger-Straße 1, 99096 Erfurt",
            address=RESIDENT_S,
            info=("BG-Nummer: 07301BG0098765", "Datum: 30.11.2026"),
            subject="Aufhebungs- und Erstattungsbescheid",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "die Entscheidung über die Bewilligung von Bürgergeld wird für den Zeitraum "
                "vom 01.07.2026 bis 31.10.2026 teilweise aufgehoben, weil Sie Einkommen aus "
                "einer Beschäftigung erzielt haben, das bei der Bewilligung nicht bekannt war.",
                "Für diesen Zeitraum haben Sie Leistungen in Höhe von 412,50 € zu Unrecht "
                "erhalten. Diesen Betrag haben Sie nach § 50 SGB X zu erstatten.",
                "Bitte überweisen Sie den Betrag von 412,50 € bis zum 31.12.2026 auf das unten "
                "genannte Konto. Geben Sie dabei bitte Ihre BG-Nummer an.",
                RECHTSBEHELF,
            ),
            closing=(*GREET, "Ihr Jobcenter Erfurt"),
            pages=2,
            look=Look(form="scan-pdf", font="serif", jpeg=75, noise=5),
        ),
        Expected(
            K.JOBCENTER,
            D(2026, 11, 30),
            "07301BG0098765",
            E("412.50"),
            ((D(2026, 12, 31), True), (ONE_MONTH, False)),
        ),
    ),
    Case(
        Letter(
            key="jc_bewilligung",
            head=("Jobcenter Erfurt", "Max-Reger-Straße 1", "99096 Erfurt"),
            return_line="Jobcenter Erfurt, Max-Reger-Straße 1, 99096 Erfurt",
            address=RESIDENT_R,
            info=("BG-Nummer: 07301BG0054321", "Datum: 27.11.2026"),
            subject="Bewilligungsbescheid über Leistungen zur Sicherung des Lebensunterhalts",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "auf Ihren Antrag vom 03.11.2026 bewilligen wir Ihnen Bürgergeld für den "
                "Bewilligungszeitraum vom 01.01.2027 bis 30.06.2027.",
                "Sie erhalten monatlich 1.126,00 €. Die Berechnung finden Sie in der Anlage.",
                "Bitte teilen Sie uns jede Änderung Ihrer Verhältnisse unverzüglich mit.",
                RECHTSBEHELF,
            ),
            closing=(*GREET, "Ihr Jobcenter Erfurt"),
            look=Look(font="serif", tilt=-1.5, light=0.35),
        ),
        Expected(K.JOBCENTER, D(2026, 11, 27), "07301BG0054321", None, ((ONE_MONTH, False),)),
    ),
    Case(
        Letter(
            key="jc_nachweise",
            head=("Jobcenter Erfurt", "Max-Reger-Straße 1", "99096 Erfurt"),
            return_line="Jobcenter Erfurt, Max-Reger-Straße 1, 99096 Erfurt",
            address=RESIDENT_M,
            info=("BG-Nummer: 07301BG0012345", "Datum: 03.12.2026"),
            subject="Nachweis Ihrer Bewerbungsbemühungen",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "in Ihrer Eingliederungsvereinbarung haben wir vereinbart, dass Sie sich jeden "
                "Monat auf mindestens fünf Stellen bewerben und dies nachweisen.",
                "Für den Monat November 2026 liegen uns noch keine Nachweise vor. Bitte "
                "reichen Sie Kopien Ihrer Bewerbungen und der Antworten ein.",
                "Sie können die Nachweise auch über jobcenter.digital hochladen oder in den "
                "Hausbriefkasten werfen.",
                "Die Nachweise müssen spätestens am 18.12.2026 bei uns vorliegen.",
            ),
            closing=(*GREET, "Ihr Jobcenter Erfurt"),
            pages=2,
            look=Look(jpeg=70, max_side=1280, tilt=1.2, noise=4),
        ),
        Expected(K.JOBCENTER, D(2026, 12, 3), "07301BG0012345", None, ((D(2026, 12, 18), True),)),
    ),
    # --- Ausländerbehörde --------------------------------------------------------------------
    Case(
        Letter(
            key="ab_verlaengerung",
            head=("Landeshauptstadt Erfurt", "Ausländerbehörde", "Bürgermeister-Wagner-Str. 1"),
            return_line="Stadtverwaltung Erfurt, Ausländerbehörde, 99084 Erfurt",
            address=RESIDENT_F,
            info=("Aktenzeichen: AB-2026-45871", "Datum: 26.11.2026"),
            subject="Verlängerung Ihrer Aufenthaltserlaubnis",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "Ihre Aufenthaltserlaubnis nach § 24 Aufenthaltsgesetz ist gültig bis 31.01.2027.",
                "Bitte beantragen Sie die Verlängerung spätestens am 15.01.2027 und bringen Sie "
                "Ihren Pass, ein biometrisches Foto und den Nachweis über Ihre Wohnung mit.",
                "Ohne gültigen Aufenthaltstitel können Leistungen und Arbeitsverhältnisse "
                "gefährdet sein.",
            ),
            closing=(*GREET, "Im Auftrag", "M. Becker"),
            look=Look(tilt=4.5, noise=10, jpeg=65, blur=0.7, light=0.2),
        ),
        Expected(
            K.AUSLAENDERBEHOERDE,
            D(2026, 11, 26),
            "AB-2026-45871",
            None,
            ((D(2027, 1, 15), True),),
        ),
    ),
    Case(
        Letter(
            key="ab_unterlagen",
            head=("Stadtverwaltung Erfurt", "Amt für Migration und Integration", "99111 Erfurt"),
            return_line="Stadtverwaltung Erfurt, 99111 Erfurt",
            address=RESIDENT_M,
            info=("Geschäftszeichen: 32.1-AR-77812",),
            place_date="Erfurt, den 27. November 2026",
            subject="Ihr Antrag vom 12.11.2026 auf Erteilung einer Niederlassungserlaubnis",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "für die Bearbeitung Ihres Antrags fehlen noch der Nachweis über Ihre "
                "Deutschkenntnisse (Zertifikat B1) und die Bescheinigung Ihres Arbeitgebers.",
                "Bitte reichen Sie die fehlenden Unterlagen binnen zwei Wochen ein.",
                "Sie können die Unterlagen per Post senden oder persönlich abgeben.",
            ),
            closing=(*GREET, "Ausländerbehörde Erfurt"),
            look=Look(layout="plain", font="serif", tilt=-2.0, noise=6, jpeg=68),
        ),
        Expected(
            K.AUSLAENDERBEHOERDE, D(2026, 11, 27), "32.1-AR-77812", None, ((TWO_WEEKS, False),)
        ),
    ),
    Case(
        Letter(
            key="ab_fiktion",
            head=("Landeshauptstadt Erfurt", "Ausländerbehörde", "99084 Erfurt"),
            return_line="Stadtverwaltung Erfurt, Ausländerbehörde, 99084 Erfurt",
            address=RESIDENT_S,
            info=("Aktenzeichen: AB-2026-51020", "Datum: 02.12.2026"),
            subject="Fiktionsbescheinigung",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "Ihr Antrag auf Verlängerung des Aufenthaltstitels ist eingegangen. Bis zur "
                "Entscheidung gilt Ihr bisheriger Aufenthaltstitel als fortbestehend.",
                "Bitte sprechen Sie spätestens bis zum 20.01.2027 mit Ihrem Pass persönlich "
                "vor, damit wir die Fiktionsbescheinigung ausstellen können.",
            ),
            closing=(*GREET, "Im Auftrag", "K. Wolf"),
            look=Look(jpeg=70, max_side=1280, tilt=-0.8),
        ),
        Expected(
            K.AUSLAENDERBEHOERDE,
            D(2026, 12, 2),
            "AB-2026-51020",
            None,
            ((D(2027, 1, 20), True),),
        ),
    ),
    # --- Familienkasse -----------------------------------------------------------------------
    Case(
        Letter(
            key="fk_fragebogen",
            head=("Familienkasse Sachsen-Anhalt-Thüringen", "Postfach 10 01 52", "06030 Halle"),
            return_line="Familienkasse, Postfach 10 01 52, 06030 Halle",
            address=RESIDENT_R,
            info=("Kindergeldnummer: 123FK456789", "Datum: 2026-11-30"),
            subject="Überprüfung Ihres Anspruchs auf Kindergeld",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "wir überprüfen regelmäßig, ob die Voraussetzungen für das Kindergeld noch "
                "vorliegen. Dazu benötigen wir Angaben zur Ausbildung Ihrer Tochter.",
                "Bitte senden Sie den beigefügten Fragebogen bis spätestens 08.01.2027 "
                "ausgefüllt zurück.",
                "Wenn Sie den Fragebogen nicht zurücksenden, müssen wir die Festsetzung des "
                "Kindergeldes aufheben.",
            ),
            closing=(*GREET, "Ihre Familienkasse"),
            look=Look(font="mono", size_pt=10.5, tilt=1.0, jpeg=70),
        ),
        Expected(K.FAMILIENKASSE, D(2026, 11, 30), "123FK456789", None, ((D(2027, 1, 8), True),)),
    ),
    Case(
        Letter(
            key="fk_rueckforderung",
            head=("Familienkasse Sachsen-Anhalt-Thüringen", "Postfach 10 01 52", "06030 Halle"),
            return_line="Familienkasse, Postfach 10 01 52, 06030 Halle",
            address=RESIDENT_F,
            info=("Kindergeldnummer: 123FK998877", "Datum: 25.11.2026"),
            subject="Aufhebung der Festsetzung und Rückforderung von Kindergeld",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "die Festsetzung des Kindergeldes für Ihren Sohn wird ab Juli 2026 aufgehoben, "
                "weil er seit diesem Monat nicht mehr in Ihrem Haushalt lebt.",
                "Das für Juli bis November 2026 gezahlte Kindergeld in Höhe von 1.275,00 € ist "
                "zurückzuzahlen.",
                "Bitte überweisen Sie den Betrag von 1.275,00 € innerhalb von 30 Tagen nach "
                "Bekanntgabe dieses Bescheides.",
                "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Einspruch "
                "eingelegt werden.",
            ),
            closing=(*GREET, "Ihre Familienkasse"),
            pages=2,
            look=Look(form="scan-pdf", jpeg=70, tilt=0.7, noise=4),
        ),
        Expected(
            K.FAMILIENKASSE,
            D(2026, 11, 25),
            "123FK998877",
            E("1275.00"),
            ((D(2027, 1, 3), False), (ONE_MONTH, False)),
        ),
    ),
    Case(
        Letter(
            key="fk_kinderzuschlag",
            head=("Familienkasse Bayern Nord", "Kinderzuschlag", "90327 Nürnberg"),
            return_line="Familienkasse Bayern Nord, 90327 Nürnberg",
            address=RESIDENT_R,
            info=("Kindergeldnummer: 456FK112233",),
            place_date="Nürnberg, den 1. Dezember 2026",
            subject="Ihr Antrag auf Kinderzuschlag",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "für die Entscheidung über Ihren Antrag auf Kinderzuschlag benötigen wir Ihre "
                "Einkommensnachweise der letzten sechs Monate.",
                "Frist: 22.12.2026",
                "Bitte beachten Sie, dass wir ohne diese Nachweise nicht entscheiden können.",
            ),
            closing=(*GREET, "Ihre Familienkasse"),
            look=Look(layout="plain", light=0.45, noise=5, jpeg=70),
        ),
        Expected(K.FAMILIENKASSE, D(2026, 12, 1), "456FK112233", None, ((D(2026, 12, 22), True),)),
    ),
    # --- Krankenkasse ------------------------------------------------------------------------
    Case(
        Letter(
            key="kk_beitrag",
            head=("AOK PLUS", "Die Gesundheitskasse für Sachsen und Thüringen", "99084 Erfurt"),
            return_line="AOK PLUS, Augustinerstraße 38, 99084 Erfurt",
            address=RESIDENT_S,
            info=("Versichertennummer: A123456789", "Datum: 24.11.2026"),
            subject="Rückständige Beiträge zur Krankenversicherung",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "für Ihre freiwillige Krankenversicherung sind folgende Beträge offen:",
                "| Beiträge September bis November 2026 | 286,40 € |",
                "| Säumniszuschläge | 8,50 € |",
                "| Gesamtbetrag | 294,90 € |",
                "Bitte zahlen Sie den Gesamtbetrag bis 18.12.2026. Wenn Sie die Beiträge nicht "
                "zahlen können, sprechen Sie uns bitte an.",
            ),
            closing=(*GREET, "Ihre AOK PLUS"),
            look=Look(tilt=1.0, jpeg=70, noise=5),
        ),
        Expected(
            K.KRANKENKASSE,
            D(2026, 11, 24),
            "A123456789",
            E("294.90"),
            ((D(2026, 12, 18), True),),
        ),
    ),
    Case(
        Letter(
            key="kk_familienversicherung",
            head=("Techniker Krankenkasse", "Bramfelder Straße 140", "22305 Hamburg"),
            return_line="Techniker Krankenkasse, 22305 Hamburg",
            address=RESIDENT_F,
            info=("Versichertennummer: B987654321", "Datum: 02.12.2026"),
            subject="Fragebogen zur Familienversicherung",
            salutation="Guten Tag Frau Petrenko,",
            body=(
                "Ihre Kinder sind bei uns beitragsfrei familienversichert. Einmal im Jahr "
                "prüfen wir, ob die Voraussetzungen dafür weiter bestehen.",
                "Bitte füllen Sie den beiliegenden Fragebogen aus und senden Sie ihn uns "
                "innerhalb von 4 Wochen zurück.",
            ),
            closing=(*GREET, "Ihre Techniker Krankenkasse"),
            look=Look(light=0.55, tilt=-0.5, jpeg=65),
        ),
        Expected(K.KRANKENKASSE, D(2026, 12, 2), "B987654321", None, ((D(2027, 1, 1), False),)),
    ),
    Case(
        Letter(
            key="kk_befreiung",
            head=("BKK Mitte", "Friedrichstraße 2", "99084 Erfurt"),
            return_line="BKK Mitte, Friedrichstraße 2, 99084 Erfurt",
            address=RESIDENT_M,
            info=("Versichertennummer: C246813579", "Datum: 01.12.2026"),
            subject="Befreiung von Zuzahlungen",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "Sie haben die Belastungsgrenze für das Jahr 2026 erreicht. Wir befreien Sie "
                "deshalb vom 01.12.2026 bis zum 31.12.2026 von weiteren Zuzahlungen.",
                "Den Befreiungsausweis finden Sie in der Anlage. Bitte legen Sie ihn in der "
                "Apotheke und beim Arzt vor.",
            ),
            closing=(*GREET, "Ihre BKK Mitte"),
            look=Look(form="text-pdf"),
        ),
        Expected(K.KRANKENKASSE, D(2026, 12, 1), "C246813579", None, ()),
    ),
    # --- Rentenversicherung ------------------------------------------------------------------
    Case(
        Letter(
            key="drv_kontenklaerung",
            head=("Deutsche Rentenversicherung", "Mitteldeutschland", "04091 Leipzig"),
            return_line="Deutsche Rentenversicherung Mitteldeutschland, 04091 Leipzig",
            address=RESIDENT_S,
            info=("Versicherungsnummer: 12 150385 K 123",),
            place_date="Leipzig, 01.12.2026",
            subject="Klärung Ihres Versicherungskontos",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "in Ihrem Versicherungsverlauf fehlen Zeiten Ihrer Beschäftigung in der "
                "Ukraine. Bitte senden Sie uns dazu Ihr Arbeitsbuch in Kopie.",
                "Bitte senden Sie uns die Unterlagen bis zum 29.01.2027.",
            ),
            closing=(*GREET, "Ihre Deutsche Rentenversicherung"),
            look=Look(layout="plain", tilt=3.0, noise=7, jpeg=70),
        ),
        Expected(
            K.RENTENVERSICHERUNG,
            D(2026, 12, 1),
            "12 150385 K 123",
            None,
            ((D(2027, 1, 29), True),),
        ),
    ),
    Case(
        Letter(
            key="drv_info",
            head=("Deutsche Rentenversicherung Bund", "10704 Berlin"),
            return_line="Deutsche Rentenversicherung Bund, 10704 Berlin",
            address=RESIDENT_F,
            info=("Versicherungsnummer: 65 020290 P 501", "Datum: 20.11.2026"),
            subject="Ihre Renteninformation",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "mit dieser Renteninformation erhalten Sie einen Überblick über Ihre bisher "
                "erworbenen Ansprüche. Die Angaben beruhen auf den gespeicherten Daten.",
                "Sie müssen nichts weiter tun. Bitte prüfen Sie die Angaben und teilen Sie uns "
                "mit, wenn Zeiten fehlen.",
            ),
            closing=(*GREET, "Ihre Deutsche Rentenversicherung"),
            look=Look(font="serif", tilt=-3.5, noise=6, jpeg=65, border=True),
        ),
        Expected(K.RENTENVERSICHERUNG, D(2026, 11, 20), "65 020290 P 501", None, ()),
    ),
    Case(
        Letter(
            key="drv_anhoerung",
            head=("Deutsche Rentenversicherung", "Mitteldeutschland", "04091 Leipzig"),
            return_line="Deutsche Rentenversicherung Mitteldeutschland, 04091 Leipzig",
            address=RESIDENT_M,
            info=("Versicherungsnummer: 12 010180 A 007", "Datum: 26.11.2026"),
            subject="Anhörung vor einer Rückforderung",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "wir beabsichtigen, die Ihnen gezahlte Erwerbsminderungsrente für die Zeit "
                "vom 01.05.2026 bis 30.09.2026 teilweise zurückzufordern.",
                "Der zu erstattende Betrag beträgt 640,00 €.",
                "Sie können sich dazu innerhalb von zwei Wochen ab Datum dieses Schreibens "
                "äußern. Danach entscheiden wir nach Aktenlage.",
            ),
            closing=(*GREET, "Ihre Deutsche Rentenversicherung"),
            pages=2,
            look=Look(form="scan-pdf", font="serif", jpeg=70, tilt=-1.0),
        ),
        Expected(
            K.RENTENVERSICHERUNG,
            D(2026, 11, 26),
            "12 010180 A 007",
            E("640.00"),
            ((D(2026, 12, 10), False),),
        ),
    ),
    # --- Gericht -----------------------------------------------------------------------------
    Case(
        Letter(
            key="ag_mahnbescheid",
            head=("Amtsgericht Aschersleben", "Zentrales Mahngericht", "06441 Aschersleben"),
            return_line="Amtsgericht Aschersleben, 06441 Aschersleben",
            address=RESIDENT_F,
            info=("Geschäftsnummer: 26-1234567-0-8", "Datum: 25.11.2026"),
            subject="Mahnbescheid",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "die Antragstellerin, die Muster Inkasso GmbH, macht gegen Sie folgende "
                "Ansprüche geltend:",
                "| Hauptforderung | 389,00 € |",
                "| Zinsen | 12,73 € |",
                "| Kosten des Verfahrens | 69,50 € |",
                "| Gesamtbetrag | 471,23 € |",
                "Sie können gegen den Anspruch innerhalb von zwei Wochen seit der Zustellung "
                "Widerspruch erheben. Sonst kann ein Vollstreckungsbescheid ergehen.",
            ),
            closing=("Der Rechtspfleger",),
            look=Look(layout="plain", tilt=2.0, noise=6, jpeg=70),
        ),
        Expected(K.GERICHT, D(2026, 11, 25), "26-1234567-0-8", E("471.23"), ((TWO_WEEKS, False),)),
    ),
    Case(
        Letter(
            key="sg_ladung",
            head=("Sozialgericht Erfurt", "Rudolfstraße 46", "99092 Erfurt"),
            return_line="Sozialgericht Erfurt, Rudolfstraße 46, 99092 Erfurt",
            address=RESIDENT_M,
            info=("Aktenzeichen: S 12 AS 1234/26", "Datum: 30.11.2026"),
            subject="Karimi gegen Jobcenter Erfurt",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "in dem oben genannten Rechtsstreit ist Termin zur mündlichen Verhandlung am "
                "14.01.2027 um 10:00 Uhr im Saal 3 bestimmt.",
                "Sie können bis zum 28.12.2026 schriftlich zu der Klageerwiderung Stellung nehmen.",
            ),
            closing=("Auf Anordnung", "Schmidt, Justizbeschäftigte"),
            look=Look(font="serif", tilt=-3.0, noise=5, jpeg=70),
        ),
        Expected(K.GERICHT, D(2026, 11, 30), "S 12 AS 1234/26", None, ((D(2026, 12, 28), True),)),
    ),
    # --- Inkasso und Gläubiger ---------------------------------------------------------------
    Case(
        Letter(
            key="ink_forderung",
            head=("Muster Inkasso GmbH", "Postfach 12 34", "10115 Berlin"),
            return_line="Muster Inkasso GmbH, Postfach 12 34, 10115 Berlin",
            address=RESIDENT_F,
            info=("Forderungsnummer: 2026/44781", "Datum: 1. Dezember 2026"),
            subject="Forderung der Telefon Nord AG",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "unsere Mandantin, die Telefon Nord AG, hat uns mit dem Einzug ihrer offenen "
                "Forderung beauftragt.",
                "| Hauptforderung | 200,00 € |",
                "| Inkassokosten | 58,50 € |",
                "| Gesamtforderung | 258,50 € |",
                "Bitte überweisen Sie den Gesamtbetrag innerhalb von 14 Tagen nach Zugang "
                "dieses Schreibens. Andernfalls werden wir einen Mahnbescheid beantragen.",
            ),
            closing=(*GREET, "Muster Inkasso GmbH"),
            footer=("Registergericht: Amtsgericht Berlin HRB 12345, Geschäftsführer: P. Klein",),
            look=Look(tilt=3.5, noise=10, jpeg=60, blur=0.6),
        ),
        Expected(K.INKASSO, D(2026, 12, 1), "2026/44781", E("258.50"), ((TWO_WEEKS, False),)),
    ),
    Case(
        Letter(
            key="ink_letzte_mahnung",
            head=("Forderungsmanagement Ost GmbH", "Am Anger 5", "99084 Erfurt"),
            return_line="Forderungsmanagement Ost GmbH, Am Anger 5, 99084 Erfurt",
            address=RESIDENT_S,
            info=("Aktenzeichen: FMO-88123", "Datum: 28.11.2026"),
            subject="Letzte Mahnung vor gerichtlichen Schritten",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "trotz unserer Schreiben haben Sie die Forderung unserer Auftraggeberin noch "
                "nicht beglichen.",
                "Zahlen Sie den offenen Betrag von 143,70 € spätestens am 11.12.2026. Danach "
                "beantragen wir ohne weitere Ankündigung einen Mahnbescheid.",
            ),
            closing=(*GREET, "Forderungsmanagement Ost GmbH"),
            look=Look(layout="centered", font="serif", light=0.3, jpeg=70, noise=5),
        ),
        Expected(K.INKASSO, D(2026, 11, 28), "FMO-88123", E("143.70"), ((D(2026, 12, 11), True),)),
    ),
    Case(
        Letter(
            key="gl_mobilfunk",
            head=("FunkNetz Mobilfunk GmbH", "Kundenservice", "40210 Düsseldorf"),
            return_line="FunkNetz Mobilfunk GmbH, 40210 Düsseldorf",
            address=RESIDENT_M,
            info=("Kundennummer: KD-55831207",),
            place_date="30. November 2026",
            subject="Zahlungserinnerung",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "sicher haben Sie es nur übersehen: Ihre Rechnung vom 05.11.2026 ist noch "
                "nicht bezahlt.",
                "Bitte überweisen Sie den offenen Betrag von 39,99 € bis zum 14.12.2026.",
                "Wenn Sie bereits gezahlt haben, betrachten Sie dieses Schreiben bitte als "
                "gegenstandslos.",
            ),
            closing=(*GREET, "Ihr FunkNetz Kundenservice"),
            look=Look(layout="plain", tilt=-2.5, jpeg=68, noise=6),
        ),
        Expected(K.INKASSO, D(2026, 11, 30), "KD-55831207", E("39.99"), ((D(2026, 12, 14), True),)),
    ),
    Case(
        Letter(
            key="gl_versand",
            head=("Versandhaus Mitte GmbH", "Kundenkonto", "36037 Fulda"),
            return_line="Versandhaus Mitte GmbH, 36037 Fulda",
            address=RESIDENT_R,
            info=("Kundennummer: 4471203", "Datum: 27.11.2026"),
            subject="1. Mahnung",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "für Ihre Bestellung ist folgender Betrag offen:",
                "| Rechnungsbetrag | 74,90 € |",
                "| Mahngebühr | 5,00 € |",
                "| Summe | 79,90 € |",
                "Bitte begleichen Sie die Summe innerhalb von 10 Tagen ab Datum dieses Schreibens.",
            ),
            closing=(*GREET, "Versandhaus Mitte"),
            look=Look(font="mono", size_pt=10.5, tilt=0.5, noise=4, jpeg=70),
        ),
        Expected(K.INKASSO, D(2026, 11, 27), "4471203", E("79.90"), ((D(2026, 12, 7), False),)),
    ),
    # --- Vermieter ---------------------------------------------------------------------------
    Case(
        Letter(
            key="vm_mieterhoehung",
            head=("Hausverwaltung Krämer & Sohn", "Anger 12", "99084 Erfurt"),
            return_line="Hausverwaltung Krämer & Sohn, Anger 12, 99084 Erfurt",
            address=RESIDENT_S,
            info=("Mieternummer: W-1024-07", "Datum: 01.12.2026"),
            subject="Mieterhöhung nach § 558 BGB",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "wir bitten Sie, einer Erhöhung der Nettokaltmiete zuzustimmen. Die Miete "
                "erhöht sich um 42,00 € auf 512,00 € monatlich.",
                "Die neue Miete gilt ab dem 01.03.2027.",
                "Bitte teilen Sie uns bis zum 31.01.2027 mit, ob Sie der Mieterhöhung zustimmen.",
            ),
            closing=(*GREET, "Hausverwaltung Krämer & Sohn"),
            look=Look(tilt=1.8, light=0.25, jpeg=70),
        ),
        Expected(K.VERMIETER, D(2026, 12, 1), "W-1024-07", None, ((D(2027, 1, 31), True),)),
    ),
    Case(
        Letter(
            key="vm_betriebskosten",
            head=("Wohnungsgenossenschaft Erfurt-Nord eG", "Moskauer Straße 4", "99091 Erfurt"),
            return_line="WG Erfurt-Nord eG, Moskauer Straße 4, 99091 Erfurt",
            address=RESIDENT_F,
            info=("Mieternummer: 30-2217-04", "Datum: 20.11.2026"),
            subject="Betriebskostenabrechnung 2025",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "anbei erhalten Sie die Abrechnung der Betriebskosten für den "
                "Abrechnungszeitraum 01.01.2025 bis 31.12.2025.",
                "| Kosten laut Abrechnung | 1.843,40 € |",
                "| Ihre Vorauszahlungen | 1.656,00 € |",
                "| Nachzahlung | 187,40 € |",
                "Bitte überweisen Sie den Nachzahlungsbetrag von 187,40 € bis zum 15.01.2027.",
                "Die monatliche Vorauszahlung wird ab Februar 2027 angepasst.",
            ),
            closing=(*GREET, "Ihre Wohnungsgenossenschaft"),
            pages=2,
            look=Look(form="scan-pdf", jpeg=70, noise=5),
        ),
        Expected(
            K.VERMIETER, D(2026, 11, 20), "30-2217-04", E("187.40"), ((D(2027, 1, 15), True),)
        ),
    ),
    Case(
        Letter(
            key="vm_rueckstand",
            head=("KoWo Kommunale Wohnungsgesellschaft", "Erfurt mbH", "Mainzerhofstraße 10"),
            return_line="KoWo mbH, Mainzerhofstraße 10, 99084 Erfurt",
            address=RESIDENT_M,
            info=("Mieternummer: 1-554-0031", "Datum: 02.12.2026"),
            subject="Mietrückstand",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "bis heute sind die Mieten für Oktober und November 2026 nicht eingegangen. "
                "Der Mietrückstand beträgt 1.024,00 €.",
                "Wir fordern Sie auf, den Rückstand innerhalb einer Woche nach Erhalt dieses "
                "Schreibens auszugleichen. Andernfalls behalten wir uns die fristlose "
                "Kündigung des Mietverhältnisses vor.",
            ),
            closing=(*GREET, "KoWo Erfurt"),
            look=Look(tilt=-4.0, light=0.4, noise=6, jpeg=65),
        ),
        Expected(
            K.VERMIETER, D(2026, 12, 2), "1-554-0031", E("1024.00"), ((D(2026, 12, 11), False),)
        ),
    ),
    # --- Stadtwerke --------------------------------------------------------------------------
    Case(
        Letter(
            key="sw_jahresabrechnung",
            head=("SWE Stadtwerke Erfurt", "Magdeburger Allee 34", "99086 Erfurt"),
            return_line="SWE Energie GmbH, Magdeburger Allee 34, 99086 Erfurt",
            address=RESIDENT_R,
            info=("Vertragskonto: 200123456789", "Datum: 23.11.2026"),
            subject="Ihre Jahresabrechnung Strom",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "für den Abrechnungszeitraum 01.11.2025 bis 31.10.2026 ergibt sich aus Ihrem "
                "Verbrauch von 2.950 kWh folgende Abrechnung:",
                "| Verbrauch und Grundpreis | 1.152,12 € |",
                "| Ihre Abschläge | 1.056,00 € |",
                "| Nachzahlung | 96,12 € |",
                "Der Nachzahlungsbetrag ist fällig am 21.12.2026. Ihr neuer monatlicher "
                "Abschlag beträgt 96,00 €.",
            ),
            closing=(*GREET, "Ihre SWE Energie"),
            look=Look(tilt=0.3, jpeg=70, noise=4, dpi=300),
        ),
        Expected(
            K.STADTWERKE,
            D(2026, 11, 23),
            "200123456789",
            E("96.12"),
            ((D(2026, 12, 21), True),),
        ),
    ),
    Case(
        Letter(
            key="sw_sperre",
            head=("SWE Stadtwerke Erfurt", "Forderungsmanagement", "99086 Erfurt"),
            return_line="SWE Energie GmbH, 99086 Erfurt",
            address=RESIDENT_S,
            info=("Vertragskonto: 200987654321", "Datum: 01.12.2026"),
            subject="Androhung der Unterbrechung der Stromversorgung",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "trotz Mahnung ist der offene Betrag von 212,35 € noch nicht bezahlt.",
                "Wenn der Betrag nicht bis zum 18.12.2026 bei uns eingeht, werden wir die "
                "Stromversorgung ab dem 23.12.2026 unterbrechen.",
                "Bitte melden Sie sich, wenn Sie eine Ratenzahlung vereinbaren möchten.",
            ),
            closing=(*GREET, "Ihre SWE Energie"),
            look=Look(tilt=5.0, noise=10, jpeg=60, blur=0.7, light=0.2),
        ),
        Expected(
            K.STADTWERKE,
            D(2026, 12, 1),
            "200987654321",
            E("212.35"),
            ((D(2026, 12, 18), True),),
        ),
    ),
    Case(
        Letter(
            key="sw_zaehlerstand",
            head=("SWE Stadtwerke Erfurt", "Netzservice", "99086 Erfurt"),
            return_line="SWE Netz GmbH, 99086 Erfurt",
            address=RESIDENT_F,
            info=("Vertragskonto: 200555666777", "Datum: 2026-12-01"),
            subject="Ablesung Ihres Zählers",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "zum Jahreswechsel benötigen wir den Stand Ihres Stromzählers.",
                "Bitte teilen Sie uns Ihren Zählerstand bis 2026-12-20 mit, online oder mit "
                "der beiliegenden Karte.",
                "Ohne Ihre Angabe müssen wir den Verbrauch schätzen.",
            ),
            closing=(*GREET, "Ihre SWE Netz"),
            look=Look(layout="centered", tilt=-1.2, jpeg=70, noise=5),
        ),
        Expected(K.STADTWERKE, D(2026, 12, 1), "200555666777", None, ((D(2026, 12, 20), True),)),
    ),
    # --- Finanzamt ---------------------------------------------------------------------------
    Case(
        Letter(
            key="fa_bescheid",
            head=("Finanzamt Erfurt", "Mittelhäuser Straße 64f", "99091 Erfurt"),
            return_line="Finanzamt Erfurt, Mittelhäuser Straße 64f, 99091 Erfurt",
            address=RESIDENT_M,
            info=("Steuernummer: 151/234/56789", "Datum: 30.11.2026"),
            subject="Bescheid für 2025 über Einkommensteuer",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "die Einkommensteuer für 2025 wird auf 1.204,00 € festgesetzt. Nach Abzug der "
                "Lohnsteuer verbleibt eine Nachzahlung von 318,00 €.",
                "Bitte zahlen Sie den Betrag spätestens am 07.01.2027.",
                "Gegen diesen Bescheid kann innerhalb eines Monats nach Bekanntgabe Einspruch "
                "eingelegt werden.",
            ),
            closing=(*GREET, "Ihr Finanzamt Erfurt"),
            look=Look(form="text-pdf", font="serif"),
        ),
        Expected(
            K.FINANZAMT,
            D(2026, 11, 30),
            "151/234/56789",
            E("318.00"),
            ((D(2027, 1, 7), True), (ONE_MONTH, False)),
        ),
    ),
    Case(
        Letter(
            key="fa_erinnerung",
            head=("Finanzamt Erfurt", "Mittelhäuser Straße 64f", "99091 Erfurt"),
            return_line="Finanzamt Erfurt, Mittelhäuser Straße 64f, 99091 Erfurt",
            address=RESIDENT_S,
            info=("Steuernummer: 151/345/67890", "Datum: 02.12.2026"),
            subject="Erinnerung an die Abgabe der Einkommensteuererklärung 2025",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "für das Jahr 2025 liegt uns Ihre Einkommensteuererklärung noch nicht vor. Sie "
                "sind zur Abgabe verpflichtet.",
                "Die Frist zur Abgabe der Erklärung endet am 31.12.2026.",
                "Geben Sie die Erklärung nicht ab, kann ein Verspätungszuschlag festgesetzt "
                "werden.",
            ),
            closing=(*GREET, "Ihr Finanzamt Erfurt"),
            look=Look(font="mono", size_pt=10.5, tilt=2.2, light=0.3, jpeg=70),
        ),
        Expected(K.FINANZAMT, D(2026, 12, 2), "151/345/67890", None, ((D(2026, 12, 31), True),)),
    ),
    # --- Schule ------------------------------------------------------------------------------
    Case(
        Letter(
            key="sch_klassenfahrt",
            head=("Staatliche Gemeinschaftsschule 3", "Erfurt-Rieth", "Julius-Leber-Ring 2"),
            return_line="Gemeinschaftsschule 3, Julius-Leber-Ring 2, 99089 Erfurt",
            address=RESIDENT_R,
            info=(),
            place_date="Erfurt, 30.11.2026",
            subject="Elternbrief: Klassenfahrt der Klasse 6b",
            salutation="Liebe Eltern,",
            body=(
                "vom 19.04.2027 bis 23.04.2027 fährt die Klasse 6b in das Schullandheim nach "
                "Oberhof. Die Kosten betragen 145,00 € pro Kind.",
                "Bitte geben Sie den unterschriebenen Abschnitt bis Freitag, den 11.12.2026 bei "
                "der Klassenlehrerin ab.",
                "Bitte überweisen Sie den Betrag von 145,00 € bis zum 15.01.2027 auf das Konto "
                "des Fördervereins. Bei Bedarf helfen wir beim Antrag auf Bildung und Teilhabe.",
            ),
            closing=(*GREET, "Frau Lange, Klassenlehrerin"),
            look=Look(layout="plain", tilt=-2.8, noise=6, jpeg=68, light=0.2),
        ),
        Expected(
            K.SCHULE,
            D(2026, 11, 30),
            None,
            E("145.00"),
            ((D(2026, 12, 11), True), (D(2027, 1, 15), True)),
        ),
    ),
    Case(
        Letter(
            key="sch_fehlzeiten",
            head=("Staatliche Grundschule am Roten Berg", "Erfurt"),
            return_line="Grundschule am Roten Berg, 99087 Erfurt",
            address=RESIDENT_F,
            info=("Datum: 03.12.2026",),
            subject="Unentschuldigte Fehlzeiten Ihres Sohnes",
            salutation="Sehr geehrte Frau Petrenko,",
            body=(
                "Ihr Sohn hat in den letzten zwei Wochen an vier Tagen ohne Entschuldigung im "
                "Unterricht gefehlt.",
                "Bitte melden Sie sich innerhalb von 5 Arbeitstagen bei der Schulleitung, "
                "damit wir gemeinsam eine Lösung finden.",
            ),
            closing=(*GREET, "Die Schulleitung"),
            look=Look(font="serif", tilt=1.5, noise=5, jpeg=70),
        ),
        Expected(K.SCHULE, D(2026, 12, 3), None, None, ((D(2026, 12, 11), False),)),
    ),
    # --- Sonstige ----------------------------------------------------------------------------
    Case(
        Letter(
            key="so_bibliothek",
            head=("Stadt- und Regionalbibliothek Erfurt", "Domplatz 1", "99084 Erfurt"),
            return_line="Stadtbibliothek Erfurt, Domplatz 1, 99084 Erfurt",
            address=RESIDENT_S,
            info=("Kundennummer: 004711223", "Datum: 01.12.2026"),
            subject="Erinnerung: Rückgabe Ihrer Medien",
            salutation="Guten Tag Herr Sokolow,",
            body=(
                "die Leihfrist für zwei Ihrer Medien ist abgelaufen.",
                "Bitte geben Sie die Medien bis zum 12.12.2026 zurück oder verlängern Sie die "
                "Leihfrist online.",
            ),
            closing=(*GREET, "Ihre Stadtbibliothek"),
            look=Look(tilt=-0.4, jpeg=70),
        ),
        Expected(K.SONSTIGE, D(2026, 12, 1), "004711223", None, ((D(2026, 12, 12), True),)),
    ),
    Case(
        Letter(
            key="so_buergeramt",
            head=("Landeshauptstadt Erfurt", "Bürgeramt", "Bürgermeister-Wagner-Straße 1"),
            return_line="Stadtverwaltung Erfurt, Bürgeramt, 99084 Erfurt",
            address=RESIDENT_M,
            info=("Vorgangsnummer: BA-2026-889", "Datum: 02.12.2026"),
            subject="Ihr Personalausweis liegt zur Abholung bereit",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "Ihr neuer Ausweis ist eingetroffen. Bitte holen Sie ihn innerhalb von drei "
                "Monaten im Bürgeramt ab. Bringen Sie Ihr altes Dokument mit.",
            ),
            closing=(*GREET, "Ihr Bürgeramt"),
            look=Look(font="mono", size_pt=10.5, tilt=3.8, noise=7, jpeg=65),
        ),
        Expected(K.SONSTIGE, D(2026, 12, 2), "BA-2026-889", None, ((D(2027, 3, 4), False),)),
    ),
    Case(
        Letter(
            key="so_verein",
            head=("Sportverein Rieth 1990 e.V.", "Vilniuser Straße 2", "99089 Erfurt"),
            return_line="SV Rieth 1990 e.V., 99089 Erfurt",
            address=RESIDENT_R,
            info=("Datum: 26.11.2026",),
            subject="Einladung zur Weihnachtsfeier",
            salutation="Liebe Familie Haddad,",
            body=(
                "wir laden Sie herzlich zu unserer Weihnachtsfeier am Samstag, 12.12.2026 um "
                "15 Uhr in der Sporthalle ein. Für Kaffee und Kuchen ist gesorgt.",
                "Die Halle ist vom 21.12.2026 bis 03.01.2027 geschlossen.",
            ),
            closing=("Herzliche Grüße", "Der Vorstand"),
            look=Look(layout="centered", font="serif", tilt=0.9, jpeg=70, border=True),
        ),
        Expected(K.SONSTIGE, D(2026, 11, 26), None, None, ()),
    ),
    # --- the hardest photos: held at an angle, small, dark, blurred --------------------------
    Case(
        Letter(
            key="vm_abmahnung_schraeg",
            head=("Hausverwaltung Krämer & Sohn", "Anger 12", "99084 Erfurt"),
            return_line="Hausverwaltung Krämer & Sohn, Anger 12, 99084 Erfurt",
            address=RESIDENT_R,
            info=("Mieternummer: W-2210-03", "Datum: 03.12.2026"),
            subject="Abmahnung wegen Lärm",
            salutation="Sehr geehrte Familie Haddad,",
            body=(
                "mehrere Mieter Ihres Hauses haben sich über Lärm aus Ihrer Wohnung nach 22 Uhr "
                "beschwert. Wir mahnen Sie hiermit ab.",
                "Bitte nehmen Sie bis zum 17.12.2026 schriftlich Stellung. Im Wiederholungsfall "
                "müssen wir das Mietverhältnis kündigen.",
            ),
            closing=(*GREET, "Hausverwaltung Krämer & Sohn"),
            look=Look(keystone=0.08, tilt=2.0, border=True, jpeg=65, noise=6, max_side=1600),
        ),
        Expected(K.VERMIETER, D(2026, 12, 3), "W-2210-03", None, ((D(2026, 12, 17), True),)),
    ),
    Case(
        Letter(
            key="jc_meldung_dunkel",
            head=("Jobcenter Erfurt", "Max-Reger-Straße 1", "99096 Erfurt"),
            return_line="Jobcenter Erfurt, Max-Reger-Straße 1, 99096 Erfurt",
            address=RESIDENT_S,
            info=("BG-Nummer: 07301BG0077001", "Datum: 02.12.2026"),
            subject="Meldeaufforderung",
            salutation="Sehr geehrter Herr Sokolow,",
            body=(
                "bitte melden Sie sich innerhalb einer Woche nach Erhalt dieses Schreibens bei "
                "Ihrer Ansprechpartnerin im Jobcenter.",
                "Wenn Sie ohne wichtigen Grund nicht kommen, kann Ihr Bürgergeld gemindert werden.",
            ),
            closing=(*GREET, "Ihr Jobcenter Erfurt"),
            look=Look(max_side=1280, light=0.5, noise=8, blur=1.0, tilt=-3.0, jpeg=60),
        ),
        Expected(K.JOBCENTER, D(2026, 12, 2), "07301BG0077001", None, ((D(2026, 12, 11), False),)),
    ),
    Case(
        Letter(
            key="ink_schraeg",
            head=("Creditreform Erfurt", "Inkasso", "Juri-Gagarin-Ring 90"),
            return_line="Creditreform Erfurt, Juri-Gagarin-Ring 90, 99084 Erfurt",
            address=RESIDENT_M,
            info=("Aktenzeichen: 5512/26-K", "Datum: 26.11.2026"),
            subject="Zahlungsaufforderung",
            salutation="Sehr geehrter Herr Karimi,",
            body=(
                "unsere Auftraggeberin, die Fitness Point GmbH, hat uns mit dem Einzug ihrer "
                "Forderung beauftragt.",
                "| Hauptforderung | 120,00 € |",
                "| Kosten | 45,00 € |",
                "| Gesamtforderung | 165,00 € |",
                "Bitte zahlen Sie den Gesamtbetrag bis zum 10.12.2026.",
            ),
            closing=(*GREET, "Creditreform Erfurt"),
            look=Look(keystone=0.12, tilt=-2.5, border=True, jpeg=65, noise=5, max_side=2000),
        ),
        Expected(K.INKASSO, D(2026, 11, 26), "5512/26-K", E("165.00"), ((D(2026, 12, 10), True),)),
    ),
]

# The smaller set the normal test run reads end to end (about 5 s): a 4.5° photo with noise and
# JPEG, a two-page scanned PDF and a text-layer PDF. The clean photo is read by test_reader.py,
# the Telegram-sized one (as HEIC) there too, the 5° one by the deskew test.
QUICK = ("ab_verlaengerung", "fk_rueckforderung", "fa_bescheid")


def case(key: str) -> Case:
    return next(c for c in CASES if c.letter.key == key)
