"""Inline keyboards and their callback data. Labels are marked with N_ and translated when built."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.cases.cards import TOPIC_LABELS
from bot.cases.repository import TOPICS
from bot.core import callbacks
from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES, N_, Translator
from bot.org.orgdata import DISTRICTS

# Callback data: short, prefix-routed strings (Telegram allows 64 bytes).
LANGUAGE_PREFIX = callbacks.LANGUAGE.prefix
# From the privacy notice of someone who came through a poster's link: the chooser itself (the
# link's reference rides on every button until the resident agrees, bot/outreach/service.py).
LANGUAGE_CHOOSER = "chooser"
CONSENT_PREFIX = callbacks.CONSENT.prefix
CONSENT_AGREE = callbacks.CONSENT("agree")
CONSENT_SHOW = callbacks.CONSENT("show")
MENU = "menu"
MENU_ASK = callbacks.MENU("ask")
MENU_INFO = callbacks.MENU("info")
MENU_APPOINTMENT = callbacks.MENU("appointment")
MENU_EVENTS = callbacks.MENU("events")
MENU_CONTACT = callbacks.MENU("contact")
MENU_LANGUAGE = callbacks.MENU("language")
MENU_PRIVACY = callbacks.MENU("privacy")
MENU_HELP = callbacks.MENU("help")
REQUEST_TOPIC_PREFIX = callbacks.REQUEST("topic", "")
REQUEST_DISTRICT_PREFIX = callbacks.REQUEST("district", "")
REQUEST_NEW = callbacks.REQUEST("new")
REQUEST_LANGUAGE_PREFIX = callbacks.REQUEST("lang", "")
MY_CASES = callbacks.REQUEST("mine")
DELETE_ASK = callbacks.PRIVACY("delete")
DELETE_CONFIRM = callbacks.PRIVACY("delete", "yes")
DELETE_CANCEL = callbacks.PRIVACY("delete", "no")
# Machine translation of the resident's own messages: "privacy:mt:on" / "privacy:mt:off".
TRANSLATION_PREFIX = callbacks.PRIVACY("mt", "")

# One button a row: big targets on a phone, and the order is the order of importance.
MAIN_MENU = (
    (MENU_ASK, N_("✍️ Ask a question")),
    (MENU_INFO, N_("💡 Quick answers")),
    (MENU_APPOINTMENT, N_("📅 Request an appointment")),
    (MENU_EVENTS, N_("📣 Events")),
    (MENU_CONTACT, N_("📍 Contact and opening hours")),
    (MENU_HELP, N_("🆘 Help and emergency numbers")),
    (MENU_LANGUAGE, N_("🌐 Language")),
    (MENU_PRIVACY, N_("🔒 Data protection")),
)


def _rows(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[button] for button in buttons])


def main_menu(tr: Translator) -> InlineKeyboardMarkup:
    return _rows(
        *(InlineKeyboardButton(tr._(label), callback_data=data) for data, label in MAIN_MENU)
    )


def language_chooser(
    languages: tuple[str, ...] = LANGUAGES, link: int | None = None
) -> InlineKeyboardMarkup:
    """Each language named in itself, so nobody needs to read another language to choose.
    `link`: the deep link the resident came through, carried on to the privacy notice."""
    return _rows(
        *(
            InlineKeyboardButton(
                LANGUAGE_NAMES[code], callback_data=callbacks.LANGUAGE(code, *_link(link))
            )
            for code in languages
        )
    )


def consent(tr: Translator, link: int | None = None) -> InlineKeyboardMarkup:
    """The privacy notice's buttons; each carries `link` (see bot/outreach/service.py)."""
    return _rows(
        InlineKeyboardButton(
            tr._("✅ I agree"), callback_data=callbacks.CONSENT("agree", *_link(link))
        ),
        InlineKeyboardButton(
            tr._("📍 Contact without Telegram"),
            callback_data=callbacks.MENU("contact", *_link(link)),
        ),
        InlineKeyboardButton(
            tr._("🌐 Language"),
            callback_data=(
                MENU_LANGUAGE if link is None else callbacks.LANGUAGE(LANGUAGE_CHOOSER, link)
            ),
        ),
    )


def back_to_consent(tr: Translator, link: int | None = None) -> InlineKeyboardMarkup:
    """From the contact page back to the privacy notice, for someone who has not agreed yet."""
    return _rows(
        InlineKeyboardButton(tr._("⬅️ Back"), callback_data=callbacks.CONSENT("show", *_link(link)))
    )


def _link(link: int | None) -> tuple[int, ...]:
    return () if link is None else (link,)


def back_to_menu(tr: Translator) -> InlineKeyboardMarkup:
    return _rows(back_button(tr))


def back_button(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(tr._("⬅️ Back to the menu"), callback_data=MENU)


def privacy(tr: Translator, translate_own: bool | None = None) -> InlineKeyboardMarkup:
    """`translate_own`: with machine translation on, whether the resident's messages are
    translated now; the button offers the other choice."""
    buttons = [InlineKeyboardButton(tr._("🗑 Delete my data"), callback_data=DELETE_ASK)]
    if translate_own is not None:
        label = (
            tr._("🌐 Do not translate my messages")
            if translate_own
            else tr._("🌐 Translate my messages again")
        )
        choice = "off" if translate_own else "on"
        buttons.append(InlineKeyboardButton(label, callback_data=TRANSLATION_PREFIX + choice))
    return _rows(*buttons, back_button(tr))


def confirm_delete(tr: Translator) -> InlineKeyboardMarkup:
    return _rows(
        InlineKeyboardButton(tr._("🗑 Yes, delete everything"), callback_data=DELETE_CONFIRM),
        InlineKeyboardButton(tr._("↩️ No, keep my data"), callback_data=DELETE_CANCEL),
    )


TOPIC_ICONS = {
    "debt": "💶",
    "housing": "🏠",
    "letter": "✉️",
    "job": "💼",
    "family": "👪",
    "other": "❓",
}


def topics(tr: Translator) -> InlineKeyboardMarkup:
    return _rows(
        *(
            InlineKeyboardButton(
                f"{TOPIC_ICONS[topic]} {tr._(TOPIC_LABELS[topic])}",
                callback_data=REQUEST_TOPIC_PREFIX + topic,
            )
            for topic in TOPICS
        ),
        back_button(tr),
    )


def districts(tr: Translator) -> InlineKeyboardMarkup:
    """District names stay German in every language (they are on every sign and letter)."""
    return _rows(
        *(
            InlineKeyboardButton(f"📍 {name}", callback_data=REQUEST_DISTRICT_PREFIX + str(i))
            for i, name in enumerate(DISTRICTS)
        ),
        back_button(tr),
    )


def after_request(tr: Translator) -> InlineKeyboardMarkup:
    return _rows(
        InlineKeyboardButton(tr._("➕ New question"), callback_data=REQUEST_NEW),
        InlineKeyboardButton(tr._("📂 My requests"), callback_data=MY_CASES),
        InlineKeyboardButton(tr._("☰ Menu"), callback_data=MENU),
    )
