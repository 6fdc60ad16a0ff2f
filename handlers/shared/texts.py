"""Resident-facing texts that are composed from several catalog entries and organisation data.

All texts are HTML. Values from outside the catalogs (names, addresses, numbers) are escaped, and in
right-to-left languages wrapped in Unicode isolates so that they keep their own direction.
"""

from __future__ import annotations

from html import escape

from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES, I18n, Translator
from bot.org.emergency import EMERGENCY_LABELS
from bot.org.orgdata import Location, Organisation
from bot.residents.repository import Resident
from bot.translation import presentation as translation_texts
from bot.translation.providers import ProviderInfo


def value(tr: Translator, fragment: object) -> str:
    """An outside value inside translated text: escaped, and isolated in right-to-left text."""
    return tr.isolate(escape(str(fragment)))


def choose_language_prompt(i18n: I18n) -> str:
    """Shown before we know the language: the same request once in every shipped language."""
    return "\n".join(i18n.translator(code)._("Please choose your language.") for code in LANGUAGES)


def main_menu(tr: Translator) -> str:
    return "<b>{}</b>\n{}".format(
        tr._("Th.INKA – contact point for Berliner Platz and Rieth"),
        tr._("How can we help you? Please choose:"),
    )


def privacy_notice(
    tr: Translator,
    org: Organisation,
    retention_days: int,
    translation: ProviderInfo | None = None,
) -> str:
    """The notice; with machine translation on, it also names the provider and what goes
    there (a notice version of its own: bot/residents/service.py)."""
    operator = value(tr, org.operator)
    parts = [
        tr._(
            "Welcome to Th.INKA, the contact point (Kontaktstelle) for Berliner Platz and Rieth. "
            "We help with debts, housing, letters from authorities, job applications and family "
            "matters – free of charge and confidentially."
        ),
        "<b>{}</b>".format(tr._("Data protection")),
        tr._("Responsible for your data: %(operator)s, on behalf of the city of Erfurt.")
        % {"operator": operator},
        tr._(
            "We store your Telegram ID, your language and, when you write to us, your messages, "
            "so that a social worker can answer you. Nothing else, and we never pass it on."
        ),
        *([translation_texts.privacy_paragraph(tr, translation)] if translation else []),
        tr.ngettext(
            "The content of your messages is deleted %(days)d day after your request is closed.",
            "The content of your messages is deleted %(days)d days after your request is closed.",
            retention_days,
        )
        % {"days": retention_days},
        tr._("You can see and delete your data at any time: /privacy and /delete."),
        tr._(
            "/mydata sends you everything we store about you. You may also have your data "
            "corrected, and complain to the data protection authority of Thuringia (TLfDI)."
        ),
        tr._(
            "Please note: chats with a Telegram bot are not end-to-end encrypted. If you prefer, "
            "call us or come to the office hours instead – also with letters."
        ),
    ]
    if org.privacy_contact:
        parts.append(
            tr._("Questions about data protection: %(contact)s")
            % {"contact": value(tr, org.privacy_contact)}
        )
    return "\n\n".join(parts)


def consent_question(
    tr: Translator,
    org: Organisation,
    retention_days: int,
    translation: ProviderInfo | None = None,
) -> str:
    return "{}\n\n<b>{}</b>".format(
        privacy_notice(tr, org, retention_days, translation), tr._("Do you agree?")
    )


def stored_data(tr: Translator, resident: Resident) -> str:
    lines = [
        "<b>{}</b>".format(tr._("What we have stored about you")),
        "• " + tr._("Telegram ID: %(id)s") % {"id": value(tr, resident.user_id)},
        "• " + tr._("Language: %(language)s") % {"language": LANGUAGE_NAMES[resident.language]},
    ]
    if resident.consent_at is not None:
        lines.append(
            "• "
            + tr._("Agreed to the privacy notice on %(date)s")
            % {"date": tr.date(resident.consent_at, "long")}
        )
    if resident.district:
        lines.append(
            "• " + tr._("District: %(district)s") % {"district": value(tr, resident.district)}
        )
    return "\n".join(lines)


def opening_hours(tr: Translator, location: Location) -> list[str]:
    if not location.hours:
        return [tr._("Office hours will be published here soon.")]
    return [
        f"{tr.weekday(p.weekday)}: {tr.time(p.opens)}–{tr.time(p.closes)}" for p in location.hours
    ]


def contact(tr: Translator, org: Organisation) -> str:
    blocks = ["<b>{}</b>".format(tr._("📍 Contact and opening hours"))]
    for location in org.locations:
        title = f"<b>{value(tr, location.name)}</b>"
        if location.district not in location.name:
            title += f" ({value(tr, location.district)})"
        lines = [title]
        if location.address:
            lines.append(tr._("Address: %(address)s") % {"address": value(tr, location.address)})
        if location.phone:
            lines.append(tr._("Phone: %(phone)s") % {"phone": value(tr, location.phone)})
        if location.email:
            lines.append(tr._("E-mail: %(email)s") % {"email": value(tr, location.email)})
        lines.append(tr._("Office hours:"))
        lines.extend(opening_hours(tr, location))
        blocks.append("\n".join(lines))
    general = []
    if org.phone:
        general.append(tr._("Phone: %(phone)s") % {"phone": value(tr, org.phone)})
    if org.email:
        general.append(tr._("E-mail: %(email)s") % {"email": value(tr, org.email)})
    if org.website:
        general.append(value(tr, org.website))
    if general:
        blocks.append("\n".join(general))
    blocks.append(tr._("Counselling is free of charge. You can come without an appointment."))
    return "\n\n".join(blocks)


def emergency_numbers(tr: Translator, org: Organisation) -> str:
    lines = ["<b>{}</b>".format(tr._("In an emergency, call – free of charge:"))]
    for entry in org.emergency_numbers:
        lines.append(f"• {tr._(EMERGENCY_LABELS[entry.key])}: <b>{value(tr, entry.number)}</b>")
    return "\n".join(lines)


def help_text(tr: Translator, org: Organisation) -> str:
    about = "\n".join(
        [
            "<b>{}</b>".format(tr._("How this bot works")),
            tr._("Press the buttons – you do not need to type commands."),
            tr._("/menu – main menu"),
            tr._("/language – change the language"),
            tr._("/privacy – data protection and your data"),
            tr._("/delete – delete my data"),
        ]
    )
    return f"{emergency_numbers(tr, org)}\n\n{about}"
