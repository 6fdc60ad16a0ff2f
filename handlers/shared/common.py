"""Answering in place: a button press edits its message, a typed message gets a new one."""

from __future__ import annotations

import asyncio
import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest

from bot.cases.service import Incoming
from handlers.shared.context import BotContext

logger = logging.getLogger(__name__)


async def respond(
    update: Update,
    context: BotContext,
    text: str,
    reply_markup: InlineKeyboardMarkup | None = None,
    *,
    new_message: bool = False,
    notice: str | None = None,
) -> None:
    """Show `text` to the user: edit the pressed message in place, else send a new message.

    Texts are HTML: every value put into them goes through html.escape first. A button press is
    always answered (once: Telegram refuses a second answer), with `notice` as a short toast.
    """
    query = update.callback_query
    if query is None:
        await _send(update, context, text, reply_markup)
        return
    # The answer only stops the button's spinner: it goes out beside the edit, not before it
    # (one Bot API round trip less before the resident sees the result).
    answered = asyncio.ensure_future(_answer(query, notice))
    try:
        if not new_message and query.message is not None and query.message.is_accessible:
            try:
                await query.edit_message_text(
                    text,
                    reply_markup=reply_markup,
                    parse_mode=ParseMode.HTML,
                    disable_web_page_preview=True,
                )
                return
            except BadRequest as exc:
                # Pressing the same button twice changes nothing: Telegram says so, which is
                # fine.
                if "not modified" in exc.message:
                    return
                # A message too old to edit (48 h) or deleted: answer with a new one.
                logger.info("editing message failed (%s); sending a new one", exc.message)
        await _send(update, context, text, reply_markup)
    finally:
        await answered


async def _answer(query: CallbackQuery, notice: str | None) -> None:
    """Answer a button press; one that cannot be answered any more (too old, answered already:
    Telegram says "query is too old … or query ID is invalid") still gets its edit."""
    try:
        await query.answer(notice)
    except BadRequest as exc:
        logger.info("button press not answered: %s", exc.message)


async def _send(
    update: Update, context: BotContext, text: str, reply_markup: InlineKeyboardMarkup | None
) -> None:
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id,
        text,
        reply_markup=reply_markup,
        parse_mode=ParseMode.HTML,
        disable_web_page_preview=True,
    )


def message_pages(lines: list[str], limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Lines joined into as few messages as Telegram's length limit allows, never splitting a
    line (a longer line is cut, which no report line comes near)."""
    pages: list[str] = []
    page = ""
    for line in lines:
        line = line[:limit]
        if page and len(page) + 1 + len(line) > limit:
            pages.append(page)
            page = line
        else:
            page = f"{page}\n{line}" if page else line
    if page:
        pages.append(page)
    return pages


def first_name(update: Update) -> str | None:
    """The sender's first name as Telegram gives it (shown to staff on the case card)."""
    return update.effective_user.first_name if update.effective_user else None


def incoming(message: Message) -> Incoming | None:
    """What we store of a message; None for kinds a case does not take (stickers, polls …)."""
    if message.text is not None:
        kind, file_id = "text", None
    elif message.photo:
        kind, file_id = "photo", message.photo[-1].file_id
    elif message.document is not None:
        kind, file_id = "document", message.document.file_id
    elif message.voice is not None:
        kind, file_id = "voice", message.voice.file_id
    elif message.audio is not None:
        kind, file_id = "audio", message.audio.file_id
    elif message.video is not None:
        kind, file_id = "video", message.video.file_id
    elif message.video_note is not None:
        kind, file_id = "video_note", message.video_note.file_id
    else:
        return None
    return Incoming(
        kind=kind,
        text=message.text if message.text is not None else message.caption,
        file_id=file_id,
        media_group_id=message.media_group_id,
        chat_id=message.chat_id,
        message_id=message.message_id,
    )
