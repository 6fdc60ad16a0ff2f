"""What a social worker wants to know first about an official letter, read off its text.

Pure functions over the recognised text: who sent it (`sender_kind`), when it is dated
(`letter_date`), the number to quote (`reference`), the amount claimed (`amount_claimed`) and every
deadline with its own wording (`deadlines`). Each only reports what the text says: a field that is
not clearly there stays empty, and a deadline counted from receipt is an estimate, never a
certain date. OCR text is imperfect, so the patterns tolerate stray spaces and line breaks, but
they never guess a date that is not written.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class SenderKind(StrEnum):
    JOBCENTER = "jobcenter"
    AUSLAENDERBEHOERDE = "auslaenderbehoerde"
    FAMILIENKASSE = "familienkasse"
    KRANKENKASSE = "krankenkasse"
    RENTENVERSICHERUNG = "rentenversicherung"
    GERICHT = "gericht"
    INKASSO = "inkasso"
    VERMIETER = "vermieter"
    STADTWERKE = "stadtwerke"
    FINANZAMT = "finanzamt"
    SCHULE = "schule"
    SONSTIGE = "sonstige"

    @property
    def label(self) -> str:
        """The German name staff know the kind by."""
        return _SENDER_LABELS[self]


_SENDER_LABELS = {
    SenderKind.JOBCENTER: "Jobcenter",
    SenderKind.AUSLAENDERBEHOERDE: "Ausländerbehörde",
    SenderKind.FAMILIENKASSE: "Familienkasse",
    SenderKind.KRANKENKASSE: "Krankenkasse",
    SenderKind.RENTENVERSICHERUNG: "Rentenversicherung",
    SenderKind.GERICHT: "Gericht / Mahnbescheid",
    SenderKind.INKASSO: "Inkasso oder Gläubiger",
    SenderKind.VERMIETER: "Vermieter / Hausverwaltung",
    SenderKind.STADTWERKE: "Stadtwerke / Energieversorger",
    SenderKind.FINANZAMT: "Finanzamt",
    SenderKind.SCHULE: "Schule",
    SenderKind.SONSTIGE: "Sonstige",
}


class Basis(StrEnum):
    """What a deadline's date rests on."""

    TEXT = "text"  # the date is written in the letter: certain
    LETTER_DATE = "letter_date"  # counted from the date of the letter: an estimate
    RECEIVED = "received"  # counted from receipt (the date passed in): an estimate


@dataclass(frozen=True)
class Reference:
    label: str  # as the letter names it: "Aktenzeichen", "BG-Nummer", "Kundennummer" …
    value: str


@dataclass(frozen=True)
class Deadline:
    wording: str  # the letter's own words: "bis zum 15.12.2026", "innerhalb von 14 Tagen …"
    due: date | None  # None: a period whose starting day is unknown
    basis: Basis
    sentence: str  # the sentence it stands in, so staff see what is due

    @property
    def certain(self) -> bool:
        return self.basis is Basis.TEXT


# --- text clean-up -----------------------------------------------------------------------------


def clean(text: str) -> str:
    """OCR and PDF text made regular: NFC, soft hyphens and word breaks at line ends undone,
    typographic dashes and spaces unified, one space between words, lines kept."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00ad", "").replace("\f", "\n\n")
    text = re.sub(r"[\u2010\u2011\u2012\u2013\u2014\u2212]", "-", text)
    text = re.sub(r"[\u00a0\u2000-\u200a\u202f\t]", " ", text)
    text = re.sub(r"[\u201e\u201c\u201d\u00ab\u00bb]", '"', text)
    text = re.sub(r"[\u2018\u2019\u201a]", "'", text)
    # "Wider-\nspruch" -> "Widerspruch" (a lowercase continuation means a broken word).
    text = re.sub(r"(\w)-\n[ ]*([a-zäöüß])", r"\1\2", text)
    lines = [re.sub(r" {2,}", "  ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _flat(text: str) -> str:
    """Lines joined into running text; blank lines (paragraphs) stay as a break."""
    paragraphs = re.split(r"\n\s*\n", text)
    return "\n".join(re.sub(r"\s+", " ", p).strip() for p in paragraphs)


# --- dates -------------------------------------------------------------------------------------

_MONTH = (
    r"(?:Januar|Jänner|Jan|Februar|Feb|März|Maerz|Mär|April|Apr|Mai|Juni|Jun|Juli|Jul|"
    r"August|Aug|September|Sept|Sep|Oktober|Okt|November|Nov|Dezember|Dez)"
)
# Numbers must not touch other digits: "1.234,56" is an amount, "§ 66.1" is no date. A two-digit
# year must follow the dot directly, so that "15.12. 10:00" is not the year 2010.
_DATE = re.compile(
    r"(?<![\d.,])(?:"
    r"(?P<iso>(?:19|20)\d{2}-\d{2}-\d{2})"
    r"|(?P<d>\d{1,2}) ?\. ?(?P<m>\d{1,2}) ?\.(?:(?P<y4> ?(?:19|20)\d{2})|(?P<y2>\d{2}))?"
    r"|(?P<nd>\d{1,2}) ?\.? ?(?P<mn>" + _MONTH + r")\b\.?(?: ?(?P<ny>(?:19|20)\d{2}))?"
    r")(?![\d:,]|\.\d)",
    re.IGNORECASE,
)
_DATEPARSER_SETTINGS = {
    "DATE_ORDER": "DMY",
    "STRICT_PARSING": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
}


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    wording: str
    day: date
    year_written: bool


def find_dates(text: str, *, reference_year_from: date | None = None) -> list[DateMention]:
    """Every calendar date written in `text`: 15.12.2026, 15.12.26, 15. Dezember 2026,
    2026-12-15. A date without a year ("15.12.") takes the first such day on or after
    `reference_year_from`, and is dropped when that is not given. Impossible dates (31.02.,
    an OCR slip like 15.18.2026) are dropped, never corrected."""
    found = []
    for match in _DATE.finditer(text):
        year_text = match.group("y4") or match.group("y2") or match.group("ny")
        year_text = year_text or (match.group("iso") or "")[:4]
        candidates = [int(year_text)] if year_text else []
        if not year_text and reference_year_from is not None:
            candidates = [reference_year_from.year, reference_year_from.year + 1]
        day = None
        for year in candidates:
            year = year + 2000 if year < 100 else year  # "15.12.26"
            day = _parse_day(match, year)
            if day is not None and (year_text or day >= reference_year_from):
                break
            day = None
        if day is not None:
            wording = re.sub(r"\s+", " ", match.group(0).strip())
            found.append(DateMention(match.start(), match.end(), wording, day, bool(year_text)))
    return found


def _parse_day(match: re.Match[str], year: int) -> date | None:
    try:
        if match.group("iso"):
            return date.fromisoformat(match.group("iso"))
        if match.group("d"):
            return date(year, int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None
    # Month names and their abbreviations ("Dez.", "Sept.", "Jänner") are dateparser's German
    # data; the strict settings make it refuse rather than fill in a part that is not written.
    written = f"{match.group('nd')}. {match.group('mn').rstrip('.')} {year}"
    # Imported here: the bot's own process uses this module's types but never parses a letter
    # (that is the reading process's work), and dateparser with its language data is 12 MB.
    import dateparser

    parsed = dateparser.parse(written, languages=["de"], settings=_DATEPARSER_SETTINGS)
    return parsed.date() if parsed else None


# --- sender ------------------------------------------------------------------------------------

# (kind, pattern, weight). Weights: 3 names the institution itself, 1 is a hint that letters of
# other senders also carry (a Jobcenter letter mentions the landlord's rent).
_SENDER_CUES: list[tuple[SenderKind, str, int]] = [
    (SenderKind.JOBCENTER, r"job ?center", 3),
    (SenderKind.JOBCENTER, r"b[üu]rgergeld|grundsicherung f[üu]r arbeitsuchende|sgb ?ii\b", 1),
    (SenderKind.JOBCENTER, r"\bbg-?(?:nummer|nr)|bedarfsgemeinschaft|eingliederungs", 1),
    (SenderKind.AUSLAENDERBEHOERDE, r"ausl[äa]nderbeh[öo]rde|ausl[äa]nderamt", 3),
    (SenderKind.AUSLAENDERBEHOERDE, r"amt f[üu]r migration|migrationsamt|zuwanderung", 3),
    (SenderKind.AUSLAENDERBEHOERDE, r"aufenthaltstitel|aufenthaltserlaubnis|duldung\b", 1),
    (SenderKind.AUSLAENDERBEHOERDE, r"aufenthaltsgesetz|aufenthg|fiktionsbescheinigung", 1),
    (SenderKind.FAMILIENKASSE, r"familienkasse", 3),
    (SenderKind.FAMILIENKASSE, r"kindergeld|kinderzuschlag", 1),
    (SenderKind.KRANKENKASSE, r"krankenkasse|\baok\b|\bbkk\b|\bikk\b|barmer|\bdak\b", 3),
    (SenderKind.KRANKENKASSE, r"techniker krankenkasse|knappschaft", 3),
    (SenderKind.KRANKENKASSE, r"krankenversicherung|versichertenkarte|gesundheitskarte", 1),
    (SenderKind.RENTENVERSICHERUNG, r"rentenversicherung", 3),
    (SenderKind.RENTENVERSICHERUNG, r"\brente\b|rentenantrag|versicherungsverlauf", 1),
    (SenderKind.GERICHT, r"amtsgericht|landgericht|sozialgericht|verwaltungsgericht", 3),
    (SenderKind.GERICHT, r"mahngericht|arbeitsgericht|gerichtsvollzieher", 3),
    (SenderKind.GERICHT, r"mahnbescheid|vollstreckungsbescheid", 2),
    (SenderKind.INKASSO, r"inkasso|forderungsmanagement|creditreform|forderungseinzug", 3),
    (SenderKind.INKASSO, r"zahlungserinnerung|\bmahnung\b|mahngeb[üu]hr|gl[äa]ubiger", 1),
    (SenderKind.INKASSO, r"mobilfunk|telekom|vodafone|versandhaus|o2\b", 2),
    (SenderKind.VERMIETER, r"hausverwaltung|wohnungsgenossenschaft|wohnungsbau|vermieter", 3),
    (SenderKind.VERMIETER, r"immobilien|wohnungsgesellschaft|\bkowo\b|vermietung", 3),
    (SenderKind.VERMIETER, r"mietvertrag|mieterh[öo]hung|betriebskosten|nebenkosten|miete\b", 1),
    (SenderKind.STADTWERKE, r"stadtwerke|energieversorg|\bswe\b|netzbetreiber", 3),
    (SenderKind.STADTWERKE, r"strom|abschlag|jahresabrechnung|z[äa]hlerstand|fernw[äa]rme", 1),
    (SenderKind.FINANZAMT, r"finanzamt", 3),
    (SenderKind.FINANZAMT, r"steuerbescheid|einkommensteuer|steuer-?id|steuernummer", 1),
    (SenderKind.SCHULE, r"grundschule|gemeinschaftsschule|gymnasium|regelschule|gesamtschule", 3),
    (SenderKind.SCHULE, r"\bschule\b|schulleitung|staatliche .{0,20}schule|schulamt", 3),
    (SenderKind.SCHULE, r"klassenlehrer|sch[üu]ler(?:in)?\b|unterricht|elternabend", 1),
]
# A company's register court in its footer is no letter from the court.
_REGISTER_COURT = re.compile(
    r"(?:registergericht|handelsregister|sitz)\b[^\n]*|amtsgericht \S+,? hr[ab]\s*\d+",
    re.IGNORECASE,
)
_SALUTATION = re.compile(r"^(?:sehr geehrte|guten tag|hallo|liebe[rs]? )", re.IGNORECASE)
_CLOSING = re.compile(r"^(?:mit freundlichen gr|freundliche gr|hochachtungsvoll)", re.IGNORECASE)


def _regions(text: str) -> tuple[str, str, str]:
    """(head, body, signature): the head runs to the salutation (letterhead, return address,
    Betreff, reference lines); the signature is the few lines after "Mit freundlichen Grüßen"."""
    lines = text.split("\n")
    head_end = next((i for i, line in enumerate(lines) if _SALUTATION.match(line)), None)
    if head_end is None:
        head_end = max(3, len(lines) // 4)
    close = next(
        (i for i, line in enumerate(lines) if i >= head_end and _CLOSING.match(line)), None
    )
    head = "\n".join(lines[:head_end])
    if close is None:
        return head, "\n".join(lines[head_end:]), ""
    signature = "\n".join(lines[close : close + 5])
    return head, "\n".join(lines[head_end:close] + lines[close + 5 :]), signature


def sender_kind(text: str) -> SenderKind:
    """The kind of sender, from the institution's own name in the letterhead and signature first
    and from what the body talks about second; SONSTIGE when nothing points anywhere."""
    head, body, signature = _regions(_REGISTER_COURT.sub(" ", clean(text)))
    scores: dict[SenderKind, int] = {}
    for kind, pattern, weight in _SENDER_CUES:
        for region, factor in ((head, 4), (signature, 3), (body, 1)):
            hits = len(re.findall(pattern, region, re.IGNORECASE))
            if hits:
                scores[kind] = scores.get(kind, 0) + weight * factor * min(hits, 3)
    if not scores:
        return SenderKind.SONSTIGE
    best = max(scores.values())
    if best < 3:  # one passing mention in the body is no evidence of who wrote
        return SenderKind.SONSTIGE
    # Ties go to the order of SenderKind (the institution before the creditor it may name).
    return next(kind for kind in SenderKind if scores.get(kind) == best)


# --- letter date -------------------------------------------------------------------------------

_NOT_LETTER_DATE = re.compile(
    r"(?:vom|seit|ab|bis|geb\.?|geboren|am|zum|schreiben|antrag|eingang)\s*$", re.IGNORECASE
)


def letter_date(text: str) -> date | None:
    """The date the letter is dated: "Datum: …", "Erfurt, den …" or a date standing alone on a
    line of the head. A date the letter refers to ("Ihr Schreiben vom …") is not it."""
    text = clean(text)
    head, _, _ = _regions(text)
    candidates: list[tuple[int, int, date]] = []  # (rank, position, day)
    for region_rank, region in ((0, head), (1, text)):
        for line_no, line in enumerate(region.split("\n")):
            for mention in find_dates(line):
                if not mention.year_written:
                    continue
                before = line[: mention.start].rstrip()
                after = line[mention.end :].strip()
                if re.search(r"datum\W*$|(?:^|\s)den$", before, re.IGNORECASE):
                    rank = 0
                elif re.search(r"(?:^|\s{2})[A-ZÄÖÜ][\wäöüß.-]+(?: [\wäöüß.-]+)?,$", before):
                    rank = 1  # "Erfurt, 02.12.2026"
                elif not before and not after:
                    rank = 2
                elif _NOT_LETTER_DATE.search(before):
                    continue
                else:
                    continue
                candidates.append((region_rank * 10 + rank, line_no, mention.day))
        if candidates:
            break
    return min(candidates)[2] if candidates else None


# --- reference ---------------------------------------------------------------------------------

# In the order staff quote them: the file number of the authority first.
_REFERENCE_LABELS: list[tuple[str, str]] = [
    ("Aktenzeichen", r"aktenzeichen|az\.|\baz\b|akten-?z(?:eichen)?\.?"),
    ("Geschäftszeichen", r"gesch[äa]ftszeichen|gesch\.-?z(?:eichen)?\.?|gz\.?"),
    ("Geschäftsnummer", r"gesch[äa]ftsnummer|gesch[äa]fts-?nr\.?"),
    ("BG-Nummer", r"bg-?nummer|bg-?nr\.?|nummer der bedarfsgemeinschaft"),
    ("Kindergeldnummer", r"kindergeld-?nummer|kindergeld-?nr\.?"),
    ("Steuernummer", r"steuernummer|steuer-?nr\.?"),
    ("Versicherungsnummer", r"(?:renten)?versicherungs-?nummer|versicherungs-?nr\.?"),
    ("Versichertennummer", r"versicherten-?nummer|versicherten-?nr\.?|krankenversichertennummer"),
    ("Mitgliedsnummer", r"mitglieds-?nummer|mitglieds-?nr\.?"),
    ("Kundennummer", r"kunden-?nummer|kunden-?nr\.?|kundennr\.?"),
    ("Vertragsnummer", r"vertrags-?nummer|vertrags-?nr\.?|vertragskonto(?:nummer)?"),
    ("Mieternummer", r"mieter-?nummer|mieter-?nr\.?|mietvertragsnummer|objekt-?nr\.?"),
    ("Forderungsnummer", r"forderungs-?nummer|forderungs-?nr\.?"),
    ("Rechnungsnummer", r"rechnungs-?nummer|rechnungs-?nr\.?"),
    ("Vorgangsnummer", r"vorgangs-?nummer|vorgangs-?nr\.?|vorgang"),
    ("Schülernummer", r"sch[üu]ler-?nummer|sch[üu]ler-?nr\.?"),
    ("Unser Zeichen", r"unser zeichen"),
]
_REF_TOKEN = r"[A-Z0-9][A-Za-z0-9/.\-]*"


def references(text: str) -> list[Reference]:
    """Every labelled number, in the order of `_REFERENCE_LABELS`, each value at most once."""
    text = clean(text)
    found: list[Reference] = []
    seen: set[str] = set()
    for label, pattern in _REFERENCE_LABELS:
        regex = re.compile(
            r"(?<![\w-])(?:" + pattern + r")(?:\s*\(\w+\))?[ \t]*[:.#]?[ \t]*"
            r"(?P<value>" + _REF_TOKEN + r"(?: " + _REF_TOKEN + r"){0,4})",
            re.IGNORECASE,
        )
        for match in regex.finditer(text):
            value = _trim_reference(match.group("value"))
            if value:
                value = _repair(label, value)
            if value and value not in seen:
                seen.add(value)
                found.append(Reference(label, value))
    return found


# A BG-Nummer is five digits, "BG", seven digits; OCR of a small photo reads the B as an 8
# ("073018G0012345") or adds one ("073018BG0012345"). Only this known shape is repaired.
_BG_MISREAD = re.compile(r"(\d{5})8B?G(\d{7})")


def _repair(label: str, value: str) -> str:
    if label == "BG-Nummer" and (m := _BG_MISREAD.fullmatch(value)):
        return f"{m.group(1)}BG{m.group(2)}"
    return value


def _trim_reference(value: str) -> str | None:
    """Keep the tokens that look like parts of a number ("2 C 345/26", "12 150385 K 123") and
    stop at the first word of running text."""
    kept: list[str] = []
    for token in value.split(" "):
        token = token.rstrip(".,;")
        is_number_part = any(c.isdigit() for c in token) or re.fullmatch(r"[A-Z]{1,3}", token)
        if not is_number_part:
            break
        kept.append(token)
    while kept and not any(c.isdigit() for c in kept[-1]):
        kept.pop()
    result = " ".join(kept)
    digits = sum(c.isdigit() for c in result)
    return result if digits >= 2 else None


def reference(text: str) -> Reference | None:
    found = references(text)
    return found[0] if found else None


# --- amount ------------------------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?:(?P<pre>€|EUR)\s?)?(?<![\d.,])(?P<num>\d{1,3}(?:[. ]\d{3})+|\d+),(?P<cents>\d{2}|-{1,2})"
    r"(?![\d])(?:\s?(?P<post>€|EUR\b|Euro\b))?"
)
_CLAIM = re.compile(
    r"zahl|überweis|begleich|forderung|offen|rückstand|schulde|fällig|erstatten sie|"
    r"zu erstatten|zurückzu|nachzahlung|nachzuzahlen|mahngebühr|betrag|summe|säumnis|kosten",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    r"gesamt|summe|insgesamt|zu zahlende|zahlbetrag|offene[rn]? betrag|offene forderung|"
    r"nachzahlung",
    re.IGNORECASE,
)
# Money that goes to the resident, or that is only stated, is not claimed from them.
_NOT_CLAIM = re.compile(
    r"guthaben|erstatten wir|überweisen wir|zahlen wir|erhalten sie|bewilligt|monatlich|"
    r"ausgezahlt|\bauszahl|anspruch auf",
    re.IGNORECASE,
)


def amount_claimed(text: str) -> Decimal | None:
    """The sum the letter asks the resident to pay: the total if one is named ("Gesamtbetrag",
    "Summe"), else the first amount in a sentence that asks for payment. Amounts paid to the
    resident (benefits, credit) are not claims."""
    flat = _flat(clean(text))
    best_total: Decimal | None = None
    first_claim: Decimal | None = None
    for sentence in _sentences(flat):
        for match in _AMOUNT.finditer(sentence):
            if not (match.group("pre") or match.group("post")):
                continue
            window = sentence[max(0, match.start() - 90) : match.end() + 40]
            if _NOT_CLAIM.search(window) or not _CLAIM.search(window):
                continue
            euros = re.sub(r"[. ]", "", match.group("num"))
            cents = match.group("cents") if match.group("cents").isdigit() else "00"
            value = Decimal(f"{euros}.{cents}")
            if _TOTAL.search(sentence[max(0, match.start() - 60) : match.start()]):
                best_total = value if best_total is None else max(best_total, value)
            elif first_claim is None:
                first_claim = value
    return best_total if best_total is not None else first_claim


# --- deadlines ---------------------------------------------------------------------------------

_ABBREVIATIONS = (
    r"(?:abs|nr|str|bzw|ca|ggf|vgl|evtl|inkl|zzgl|tel|fax|geb|dr|hr|fr|bzgl|usw|z|u|s|d|i|"
    r"gem|ziff|art|kap|lfd|az|jan|feb|mär|apr|jun|jul|aug|sep|sept|okt|nov|dez)"
)


def _sentences(flat: str) -> Iterator[str]:
    for paragraph in flat.split("\n"):
        start = 0
        for boundary in re.finditer(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ\"(])", paragraph):
            before = paragraph[start : boundary.start()]
            last = re.search(r"(\S+)\.$", before)
            if last and (
                re.fullmatch(_ABBREVIATIONS, last.group(1), re.IGNORECASE)
                or re.fullmatch(r"\d{1,2}(?:\.\d{1,2})?", last.group(1))  # "15." / "15.12."
            ):
                continue
            yield paragraph[start : boundary.start()]
            start = boundary.end()
        yield paragraph[start:]


# What makes a written date a deadline, looking back from the date within its sentence.
_DUE_BEFORE = re.compile(
    r"(?:"
    r"\bbis(?: (?:zum|zur|spätestens(?: (?:zum|am))?|einschließlich|längstens(?: zum)?))?"
    r"|\bspätestens(?: (?:am|zum|bis(?: zum)?))?"
    r"|\bnicht später als"
    r"|\w*frist\w*\b.{0,80}?\b(?:endet|läuft|abläuft|ablauf|ende)\w*(?: (?:am|zum|mit dem|des))?"
    r"|\w*frist\w*\s*(?::|(?: (?:ist|bis|zum|am))+)"
    r"|\b(?:fällig|zahlbar|zahlungsziel|zahlungsfrist|einzureichen|vorzulegen)"
    r"(?: (?:am|zum|bis(?: zum)?|ist der|:))*"
    r")"
    r"(?: (?:Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonnabend|Sonntag),?)?"
    r"(?: den)?[ :]*$",
    re.IGNORECASE,
)
# "vom 01.01.2027 bis 30.06.2027", "gültig bis": a period or a validity, not something to do.
_PERIOD_BEFORE = re.compile(
    r"\b(?:gültig|befristet|\w*zeitraum|laufzeit|geöffnet|geschlossen|erteilt)\b.{0,40}$",
    re.IGNORECASE,
)
# "bis 03.01.2027 geschlossen": what follows the date can make it a period too.
_PERIOD_AFTER = re.compile(
    r"^\W*(?:\S+\s+){0,2}?(?:geschlossen|gültig|befristet|geöffnet|erteilt)\b", re.IGNORECASE
)
_PERIOD_JOIN = re.compile(r"\s*(?:bis|-)\s*(?:zum\s+|einschließlich\s+)?", re.IGNORECASE)
_NUMBER_WORDS = {
    "ein": 1,
    "eine": 1,
    "einer": 1,
    "eines": 1,
    "einem": 1,
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "elf": 11,
    "zwölf": 12,
    "vierzehn": 14,
    "einundzwanzig": 21,
    "achtundzwanzig": 28,
    "dreißig": 30,
}
_COUNT = r"(?P<count>\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"(?P<unit>Kalendertag\w*|Werktag\w*|Arbeitstag\w*|Tag\w*|Woche\w*|Monat\w*)"
_FROM_RECEIPT = r"Zugang|Erhalt|Empfang|Zustellung|Bekanntgabe|Eingang|Rechnungserhalt"
_FROM_LETTER = r"(?:dem )?Datum|Bescheiddatum|Rechnungsdatum|Briefdatum|Ausstellung"
_RELATIVE = re.compile(
    r"(?:\b(?:innerhalb|binnen)\s+(?:(?:von|einer Frist von)\s+)?"
    r"|\b(?:eine[rn]?|die|Ihnen|setzen wir Ihnen eine) (?:\w+ )?Frist von\s+"
    r"|\bzahlbar (?:innerhalb von |binnen )?)"
    + _COUNT
    + r"\s+"
    + _UNIT
    + r"(?P<anchor>\s+(?:nach|ab|seit|von)\s+(?:dem\s+|der\s+|des\s+)?"
    r"(?:(?P<receipt>" + _FROM_RECEIPT + r")|(?P<letter>" + _FROM_LETTER + r"))\w*"
    r"(?:\s+(?:dieses|dieser|des|der|Ihres)\s+(?:\w+))?)?",
    re.IGNORECASE,
)


def deadlines(text: str, *, received: date, dated: date | None = None) -> list[Deadline]:
    """Every deadline the letter sets, in reading order.

    A written date counts when the words before it make it one ("bis zum", "spätestens am",
    "Frist … endet am", "fällig am"), not when it ends a period ("vom … bis …") or a validity
    ("gültig bis"). A period ("innerhalb von 14 Tagen nach Zugang", "binnen zwei Wochen") is
    counted from the letter date when it says so, else from `received`, and is an estimate.
    A sentence that names both a period and a date keeps only the written date.
    """
    flat = _flat(clean(text))
    year_from = dated or received
    result: list[Deadline] = []
    seen: set[tuple[date | None, Basis, str]] = set()
    for sentence in _sentences(flat):
        written: list[Deadline] = []
        mentions = find_dates(sentence, reference_year_from=year_from)
        for previous, mention in zip([None, *mentions], mentions, strict=False):
            before = sentence[: mention.start]
            trigger = _DUE_BEFORE.search(before[-120:])
            if trigger is None or _PERIOD_BEFORE.search(before[-60:]):
                continue
            if _PERIOD_AFTER.search(sentence[mention.end : mention.end + 40]):
                continue
            if previous and _PERIOD_JOIN.fullmatch(sentence[previous.end : mention.start]):
                continue  # "01.07.2026 bis 31.10.2026"
            wording = (trigger.group(0) + mention.wording).strip()
            wording = re.sub(r"^[:\s]+", "", wording)
            if _rel := re.search(r"\bfrist\w*\b.*", wording, re.IGNORECASE):
                wording = _rel.group(0)
            written.append(Deadline(wording, mention.day, Basis.TEXT, sentence.strip()))
        found = written or list(_relative_deadlines(sentence, received, dated))
        for deadline in found:
            key = (deadline.due, deadline.basis, deadline.wording if deadline.due is None else "")
            if key not in seen:
                seen.add(key)
                result.append(deadline)
    return result


def _relative_deadlines(sentence: str, received: date, dated: date | None) -> Iterator[Deadline]:
    for match in _RELATIVE.finditer(sentence):
        count_word = match.group("count").lower()
        count = int(count_word) if count_word.isdigit() else _NUMBER_WORDS[count_word]
        if match.group("letter"):
            basis, start = Basis.LETTER_DATE, dated
        else:
            basis, start = Basis.RECEIVED, received
        due = _add_period(start, count, match.group("unit").lower()) if start else None
        yield Deadline(match.group(0).strip(), due, basis, sentence.strip())


def _add_period(start: date, count: int, unit: str) -> date:
    """§ 187/188 BGB arithmetic: the day of receipt does not count, a period of weeks or months
    ends on the day with the same weekday or number (the end of the month if it has none)."""
    if unit.startswith("woche"):
        return start + timedelta(weeks=count)
    if unit.startswith("monat"):
        month_index = start.month - 1 + count
        year, month = start.year + month_index // 12, month_index % 12 + 1
        return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    if unit.startswith(("werktag", "arbeitstag")):
        free = {6} if unit.startswith("werktag") else {5, 6}  # Werktage include Saturday
        day = start
        while count > 0:
            day += timedelta(days=1)
            if day.weekday() not in free:
                count -= 1
        return day
    return start + timedelta(days=count)
