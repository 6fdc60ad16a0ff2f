"""Everything no other handler took: a friendly pointer to the menu, never silence.

Registered last. A text in Arabic or Cyrillic script from a resident set to another language also
gets the offer to switch, in that language.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core.i18n import LANGUAGE_NAMES
from bot.text.scripts import suggested_languages
from handlers.shared import keyboards
from handlers.shared.common import respond
from handlers.shared.context import BotContext


async def unknown_message(update: Update, context: BotContext) -> None:
    """Free text, media, stickers, unknown commands: point to the menu (maybe offer a language)."""
    message = update.effective_message
    assert message is not None
    tr = context.tr
    text = message.text or message.caption or ""
    if text and await offer_language_switch(update, context, text, keyboards.LANGUAGE_PREFIX):
        return
    if text.startswith("/"):
        reply = tr._("I do not know this command. Please use the menu:")
    elif message.text is not None:
        reply = tr._("Thank you for your message. Please choose in the menu what you need:")
    else:
        reply = tr._("I cannot use this here. Please choose in the menu what you need:")
    await respond(update, context, reply, keyboards.main_menu(tr))


async def offer_language_switch(
    update: Update, context: BotContext, text: str, callback_prefix: str
) -> bool:
    """Text in Arabic or Cyrillic from a resident set to another language: offer to switch,
    asked in that language. True if offered."""
    tr = context.tr
    offers = suggested_languages(text, tr.language)
    if not offers:
        return False
    i18n = context.services.i18n
    lines = [
        i18n.translator(code)._("Would you like to use the bot in %(language)s?")
        % {"language": LANGUAGE_NAMES[code]}
        for code in offers
    ]
    buttons = [
        [InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=callback_prefix + code)]
        for code in offers
    ]
    buttons.append([InlineKeyboardButton(tr._("☰ Menu"), callback_data=keyboards.MENU)])
    await respond(update, context, "\n".join(lines), InlineKeyboardMarkup(buttons))
    return True


async def edited_message(update: Update, context: BotContext) -> None:
    """Edits do not reach staff: say so, so nobody waits for a change we never saw."""
    await respond(
        update,
        context,
        context._(
            "Changes to a message you already sent do not reach us. Please send a new message."
        ),
    )


async def unknown_button(update: Update, context: BotContext) -> None:
    """A button from an old message or with forged data: no action, just the current menu."""
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        assert update.callback_query is not None
        await update.callback_query.answer(context._("This button is no longer active."))
        return
    await respond(
        update,
        context,
        context._("Please choose:"),
        keyboards.main_menu(context.tr),
        new_message=True,
        notice=context._("This button is no longer active."),
    )
