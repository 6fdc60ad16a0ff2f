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
    """/start: language from Telegram when we ship it, else the chooser; then consent or menu."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    resident = context.resident
    if resident is None:
        language = I18n.supported(user.language_code)
        if language is None:
            await show_language_chooser(update, context)
            return
        resident = await services.residents.choose_language(user.id, chat.id, language)
        context.resident = resident
        context.use_language(language)
    if update.message is not None and await services.staff.is_staff(user.id):
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
        await ask_for_consent(update, context)
    else:
        await show_main_menu(update, context)


async def show_language_chooser(update: Update, context: BotContext) -> None:
    """The chooser: one line per language, each button named in its own language."""
    await respond(
        update,
        context,
        texts.choose_language_prompt(context.services.i18n),
        keyboards.language_chooser(),
    )


async def choose_language(update: Update, context: BotContext) -> None:
    """lang:<code> pressed: store the language, then continue where the resident is."""
    query = update.callback_query
    assert query is not None and query.data is not None
    language = query.data.removeprefix(keyboards.LANGUAGE_PREFIX)
    if language not in LANGUAGES:
        await show_language_chooser(update, context)
        return
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    context.resident = await services.residents.choose_language(user.id, chat.id, language)
    context.use_language(language)
    for case_id in await services.cases.language_changed(user.id, language):
        await services.relay.refresh_case(case_id)
    if services.residents.needs_consent(context.resident):
        await ask_for_consent(update, context)
    else:
        await show_main_menu(update, context)


async def ask_for_consent(update: Update, context: BotContext) -> None:
    """The short privacy notice with the agree button."""
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
        keyboards.consent(context.tr),
    )


async def agree(update: Update, context: BotContext) -> None:
    """consent:agree pressed: record the consent (time and notice version), then the menu."""
    user = update.effective_user
    assert user is not None
    if context.resident is None:
        # The record was deleted in the meantime (e.g. /delete in another window): start over.
        await start(update, context)
        return
    context.resident = await context.services.residents.give_consent(user.id)
    if await context.services.events.needs_opt_in_question(user.id):
        await ask_for_announcements(update, context)
        return
    await show_main_menu(update, context)


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
