"""Labels of the funder report in German (the default: the ESF and the city read German) and
English. Every key the report produces has a label here; tests/test_report_export.py checks that
against a real report, so a new figure without a label fails there and not in front of the
funder. An unknown key (an answer id of the quick answers, a district name) is shown as it is.
"""

from __future__ import annotations

REPORT_LANGUAGES = ("de", "en")

# The order in which topics appear in tables and charts: the resident's menu order.
TOPIC_ORDER = ("debt", "housing", "letter", "job", "family", "other")
NOT_GIVEN = "–"  # what the report writes for a missing topic, language or district

_SECTIONS = {
    "period": ("Zeitraum", "Period"),
    "total": ("Gesamt", "Totals"),
    "cases_by_topic": ("Anfragen nach Thema", "Requests by topic"),
    "cases_by_language": ("Anfragen nach Sprache", "Requests by language"),
    "cases_by_district": ("Anfragen nach Stadtteil", "Requests by district"),
    "residents_by_link": (
        "Neu erreicht über Links von Aushängen und Flyern",
        "Newly reached through links on posters and flyers",
    ),
    "selfhelp_opened_by_answer": (
        "Kurzantworten: geöffnet, je Antwort",
        "Quick answers: opened, per answer",
    ),
    "selfhelp_helped_by_answer": (
        "Kurzantworten: hat geholfen, je Antwort",
        "Quick answers: helped, per answer",
    ),
    "monthly_residents_by_topic": (
        "Erreichte Personen pro Monat nach Thema",
        "Residents reached per month by topic",
    ),
    "monthly_residents_by_district": (
        "Erreichte Personen pro Monat nach Stadtteil",
        "Residents reached per month by district",
    ),
    "monthly_appointments": (
        "Termine pro Monat: wahrgenommen und nicht wahrgenommen",
        "Appointments per month: held and missed",
    ),
}

# Spreadsheet tab names: at most 31 characters, none of []:*?/\ (Excel's rules).
_SHEETS = {
    "total": ("Überblick", "Overview"),
    "cases_by_topic": ("Thema", "Topic"),
    "cases_by_language": ("Sprache", "Language"),
    "cases_by_district": ("Stadtteil", "District"),
    "residents_by_link": ("Aushänge und Flyer", "Posters and flyers"),
    "selfhelp_opened_by_answer": ("Kurzantworten geöffnet", "Quick answers opened"),
    "selfhelp_helped_by_answer": ("Kurzantworten geholfen", "Quick answers helped"),
    "monthly_residents_by_topic": ("Monat – Thema", "Month – topic"),
    "monthly_residents_by_district": ("Monat – Stadtteil", "Month – district"),
    "monthly_appointments": ("Monat – Termine", "Month – appointments"),
}

# What the first column of a breakdown holds.
_DIMENSIONS = {
    "cases_by_topic": ("Thema", "Topic"),
    "cases_by_language": ("Sprache", "Language"),
    "cases_by_district": ("Stadtteil", "District"),
    "residents_by_link": ("Link (Stadtteil-Sprache-Ort)", "Link (district-language-place)"),
    "selfhelp_opened_by_answer": ("Kurzantwort", "Quick answer"),
    "selfhelp_helped_by_answer": ("Kurzantwort", "Quick answer"),
}

_FIGURES = {
    "from": ("von", "from"),
    "to": ("bis", "to"),
    "residents_new": ("Neu erreichte Personen", "Residents newly reached"),
    "residents_reached": ("Erreichte Personen mit Anfrage", "Residents reached with a request"),
    "cases_opened": ("Anfragen gestellt", "Requests opened"),
    "cases_closed": ("Anfragen abgeschlossen", "Requests closed"),
    "cases_urgent": ("Dringende Anfragen (Krise)", "Urgent requests (crisis)"),
    "appointments_requested": ("Termine angefragt", "Appointments requested"),
    "appointments_held": ("Termine wahrgenommen", "Appointments held"),
    "appointments_missed": ("Termine nicht wahrgenommen", "Appointments missed"),
    "events": ("Veranstaltungen", "Events"),
    "event_rsvps": ("Zusagen zu Veranstaltungen", "RSVPs to events"),
    "announcements_delivered": ("Zugestellte Ankündigungen", "Announcements delivered"),
    "selfhelp_suggested": ("Kurzantworten angeboten", "Quick answers offered"),
    "selfhelp_opened": ("Kurzantworten geöffnet", "Quick answers opened"),
    "selfhelp_helped": ("Kurzantworten: hat geholfen", "Quick answers: helped"),
    "selfhelp_asked": ("Kurzantworten: trotzdem gefragt", "Quick answers: still asked"),
    "median_hours_to_first_answer": (
        "Stunden bis zur ersten Antwort (Median)",
        "Hours to the first answer (median)",
    ),
}

_TOPICS = {
    "debt": ("Schulden", "Debt"),
    "housing": ("Wohnungssuche", "Housing search"),
    "letter": ("Behördenschreiben", "Official letter"),
    "job": ("Bewerbung", "Job application"),
    "family": ("Familie", "Family"),
    "other": ("Sonstige Frage", "Other question"),
    NOT_GIVEN: ("ohne Angabe", "not given"),
}

_LANGUAGES = {
    "de": ("Deutsch", "German"),
    "ar": ("Arabisch", "Arabic"),
    "ru": ("Russisch", "Russian"),
    "uk": ("Ukrainisch", "Ukrainian"),
    "en": ("Englisch", "English"),
    NOT_GIVEN: ("ohne Angabe", "not given"),
}

# District names stay German in every language (Berliner Platz, Rieth).
_DISTRICTS = {NOT_GIVEN: ("ohne Angabe", "not given")}
# A link is shown as printed under its QR code (rieth-ar-treppenhaus-2027).
_LINKS = {NOT_GIVEN: ("ohne Link (Start direkt im Bot)", "without a link (started in the bot)")}

_VALUES = {
    "cases_by_topic": _TOPICS,
    "cases_by_language": _LANGUAGES,
    "cases_by_district": _DISTRICTS,
    "residents_by_link": _LINKS,
    "monthly_residents_by_topic": _TOPICS,
    "monthly_residents_by_district": _DISTRICTS,
}

_WORDS = {
    "figure": ("Kennzahl", "Figure"),
    "value": ("Wert", "Value"),
    "count": ("Anzahl", "Count"),
    "section": ("Bereich", "Section"),
    "item": ("Merkmal", "Item"),
    "month": ("Monat", "Month"),
    "residents": ("Personen", "Residents"),
    "appointments": ("Termine", "Appointments"),
    "held": ("wahrgenommen", "held"),
    "missed": ("nicht wahrgenommen", "missed"),
    "title": ("Th.INKA – Bericht für den Fördergeber", "Th.INKA – report for the funder"),
    "masked": (
        "Gruppen mit weniger als 3 Personen oder Fällen stehen als „<3“, damit niemand"
        " erkennbar ist.",
        'Groups of fewer than 3 people or cases are shown as "<3", so that nobody can be'
        " recognised.",
    ),
    "hidden": (
        "„x“: ausgeblendet, damit eine Gruppe unter 3 nicht aus der Summe errechnet werden kann.",
        '"x": hidden, so that a group under 3 cannot be worked out from the total.',
    ),
    "masked_bar": ("weniger als 3", "fewer than 3"),
    "hidden_bar": ("ausgeblendet", "hidden"),
}


def _pick(table: dict[str, tuple[str, str]], key: str, lang: str) -> str | None:
    pair = table.get(key)
    if pair is None:
        return None
    return pair[REPORT_LANGUAGES.index(lang) if lang in REPORT_LANGUAGES else 0]


def section_label(section: str, lang: str = "de") -> str:
    return _pick(_SECTIONS, section, lang) or section


def sheet_name(section: str, lang: str = "de") -> str:
    name = _pick(_SHEETS, section, lang) or section_label(section, lang)
    for char in "[]:*?/\\":
        name = name.replace(char, " ")
    return name[:31]


def dimension_label(section: str, lang: str = "de") -> str:
    return _pick(_DIMENSIONS, section, lang) or word("item", lang)


def item_label(section: str, item: str, lang: str = "de") -> str:
    """The label of a row: a figure in period/total, else a value of that breakdown."""
    if section in ("period", "total"):
        return _pick(_FIGURES, item, lang) or item
    return _pick(_VALUES.get(section, {}), item, lang) or item


def word(key: str, lang: str = "de") -> str:
    return _pick(_WORDS, key, lang) or key


def has_label(section: str, item: str | None = None) -> bool:
    """For the test that every key of the report is covered."""
    if item is None:
        return section in _SECTIONS
    if section in ("period", "total"):
        return item in _FIGURES
    return item in _VALUES.get(section, {})


def topic_sort_key(topic: str) -> tuple[int, str]:
    return (TOPIC_ORDER.index(topic) if topic in TOPIC_ORDER else len(TOPIC_ORDER), topic)


# The breakdowns in every format: the requests first, then the posters' links, the quick
# answers, anything added later.
SECTION_ORDER = (
    "cases_by_topic",
    "cases_by_language",
    "cases_by_district",
    "residents_by_link",
    "selfhelp_opened_by_answer",
    "selfhelp_helped_by_answer",
)


def section_sort_key(section: str) -> tuple[int, str]:
    order = SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER)
    return (order, section)


def item_sort_key(section: str, item: str) -> tuple[int, str]:
    """Topics in the order of the residents' menu, anything else alphabetically, "–" last."""
    if section in ("cases_by_topic", "monthly_residents_by_topic"):
        return topic_sort_key(item)
    return (1 if item == NOT_GIVEN else 0, item)


# How high a masked group's hatched bar reaches in a chart: just under 3, "fewer than 3".
SMALL_BAR = 2.8
