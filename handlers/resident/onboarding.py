"""/start, the language chooser and consent: the first minute of every resident."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core import callbacks
from bot.core.i18n import LANGUAGES, I18n
from bot.org.orgdata import DISTRICTS
from bot.transport import command_menu
from handlers.shared import keyboards, texts
from handlers.shared.common import respond
from handlers.shared.context import BotContext

EVENTS_PREFIX = (
    callbacks.EVENTS.prefix
)  # the opt-in buttons are handled in handlers.resident.events


async def start(update: Update, context: BotContext) -> None:
    """/start [payload]: the language from a poster's link, else from Telegram when we ship it,
    else the chooser; then consent or the menu.

    A link's district and source are not stored now (nothing but id, chat and language before
    consent): the link's reference rides on the notice's buttons until the resident agrees."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    resident = context.resident
    staff = update.message is not None and await services.staff.is_staff(user.id)
    # None for a plain /start or a foreign link; staff trying a poster are not counted.
    link = None if staff else services.outreach.read(context.args)
    reference = None
    if link is not None and resident is not None and not services.residents.needs_consent(resident):
        # Agreed already: a poster does not change their language or count them again; it
        # gives the district if they have none yet.
        if resident.district is None:
            context.resident = resident = await services.residents.set_district(
                resident, link.district
            )
    elif link is not None:
        reference = await services.outreach.arrived(link)
    if services.residents.needs_consent(resident):
        current = resident.language if resident else I18n.supported(user.language_code)
        language = (link.language if link else None) or current
        if language is None:
            await show_language_chooser(update, context, reference)
            return
        if resident is None or resident.language != language:
            resident = await services.residents.choose_language(user.id, chat.id, language)
            context.resident = resident
            context.use_language(language)
    assert resident is not None
    if staff:
        # Staff see their commands in the "/" menu of their own chat (Telegram only knows a
        # private chat once the person has written to the bot, so this happens at /start).
        await command_menu.install_staff_menu(
            context.bot, services.i18n, chat.id, resident.language
        )
        if services.residents.needs_consent(resident):
            # Staff are not residents: no privacy notice to agree to, their tools instead.
            await respond(
                update,
                context,
                context._(
                    "Hello! You are registered as staff. /queue shows the open cases, /stats "
                    "the figures, /closed closes a day for appointments."
                ),
            )
            return
    if services.residents.needs_consent(resident):
        await ask_for_consent(update, context, reference)
    else:
        await show_main_menu(update, context)


async def show_language_chooser(
    update: Update, context: BotContext, link: int | None = None
) -> None:
    """The chooser: one line per language, each button named in its own language."""
    await respond(
        update,
        context,
        texts.choose_language_prompt(context.services.i18n),
        keyboards.language_chooser(link=link),
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """lang:<code>[:<link>] pressed: store the language, then continue where the resident is.
    lang:chooser:<link> (the notice's language button after a poster's link) shows the chooser."""
    query = update.callback_query
    assert query is not None
    parts = callbacks.LANGUAGE.parts(query.data) or [""]
    language, link = parts[0], link_reference(parts[1:])
    if language not in LANGUAGES:  # the chooser button, or data from an old or forged button
        await show_language_chooser(update, context, link)
        return
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    context.resident = await services.residents.choose_language(user.id, chat.id, language)
    context.use_language(language)
    for case_id in await services.cases.language_changed(user.id, language):
        await services.relay.refresh_case(case_id)
    if services.residents.needs_consent(context.resident):
        await ask_for_consent(update, context, link)
    else:
        await show_main_menu(update, context)


async def ask_for_consent(update: Update, context: BotContext, link: int | None = None) -> None:
    """The short privacy notice with the agree button (carrying the deep link, if any)."""
    services = context.services
    await respond(
        update,
        context,
        texts.consent_question(
            context.tr,
            services.org,
            services.settings.retention_days,
            services.translation.info,
        ),
        keyboards.consent(context.tr, link),
    )


async def show_consent(update: Update, context: BotContext) -> None:
    """consent:show[:<link>] (back from the contact page): the notice again, or the menu."""
    query = update.callback_query
    assert query is not None
    parts = callbacks.CONSENT.parts(query.data) or []
    if context.services.residents.needs_consent(context.resident):
        await ask_for_consent(update, context, link_reference(parts[1:]))
    else:
        await show_main_menu(update, context)


async def agree(update: Update, context: BotContext) -> None:
    """consent:agree[:<link>] pressed: record the consent (time and notice version) and, with a
    poster's link, its district and one count for the link; then the menu."""
    user, query = update.effective_user, update.callback_query
    assert user is not None and query is not None
    if context.resident is None:
        # The record was deleted in the meantime (e.g. /delete in another window): start over.
        await start(update, context)
        return
    services = context.services
    parts = callbacks.CONSENT.parts(query.data) or []
    link = await services.outreach.link(link_reference(parts[1:]))
    context.resident = await services.residents.give_consent(
        user.id,
        district=link.district if link else None,
        link_id=link.id if link else None,
    )
    if await services.events.needs_opt_in_question(user.id):
        await ask_for_announcements(update, context)
        return
    await show_main_menu(update, context)


def link_reference(rest: list[str]) -> int | None:
    """The link reference after a button's action: ASCII digits only, else none ("²" is a
    digit to str.isdigit, not to int)."""
    valid = len(rest) == 1 and rest[0].isascii() and rest[0].isdigit() and len(rest[0]) < 12
    return int(rest[0]) if valid else None


async def ask_for_language_or_consent(update: Update, context: BotContext) -> None:
    """What a resident who has not agreed yet gets for anything else they send."""
    if context.resident is None:
        await start(update, context)
    else:
        await ask_for_consent(update, context)


async def show_main_menu(update: Update, context: BotContext) -> None:
    await respond(update, context, texts.main_menu(context.tr), keyboards.main_menu(context.tr))


async def ask_for_announcements(update: Update, context: BotContext) -> None:
    """Asked once, right after consent: opt in per district, or not at all."""
    tr = context.tr
    buttons = [
        [InlineKeyboardButton(f"🔔 {district}", callback_data=callbacks.EVENTS("optin", i))]
        for i, district in enumerate(DISTRICTS)
    ]
    buttons.append(
        [
            InlineKeyboardButton(
                tr._("🔔 Both districts"), callback_data=callbacks.EVENTS("optin", "all")
            )
        ]
    )
    buttons.append(
        [
            InlineKeyboardButton(
                tr._("No, thank you"), callback_data=callbacks.EVENTS("optin", "none")
            )
        ]
    )
    await respond(
        update,
        context,
        tr._(
            "Would you like to get announcements of events and district conferences "
            "(Stadtteilkonferenzen)? You can change this at any time under Events."
        ),
        InlineKeyboardMarkup(buttons),
    )
