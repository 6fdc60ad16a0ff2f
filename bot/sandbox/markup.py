"""Validation of reply_markup the way the Bot API checks it."""

from __future__ import annotations

import re
from typing import Any

from .models import ApiError

INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_INLINE_BUTTONS = 100
_URL_RE = re.compile(r"^(https?|tg)://\S+$|^[\w.-]+\.[a-z]{2,}(/\S*)?$", re.IGNORECASE)


def validate_reply_markup(obj: Any, *, inline_only: bool = False) -> dict[str, Any]:
    """Return the markup if valid, else raise :class:`ApiError` with Telegram's wording."""
    if not isinstance(obj, dict):
        raise ApiError.bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in obj:
        kb = obj["inline_keyboard"]
        if not isinstance(kb, list) or not all(isinstance(r, list) for r in kb):
            raise ApiError.bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        count = 0
        for row in kb:
            for b in row:
                count += 1
                if not isinstance(b, dict):
                    raise ApiError.bad(
                        "can't parse inline keyboard button: "
                        "InlineKeyboardButton should be an Object"
                    )
                if not isinstance(b.get("text"), str):
                    raise ApiError.bad(
                        'can\'t parse inline keyboard button: Field "text" must be of type String'
                    )
                if not b["text"].strip():
                    raise ApiError.bad("BUTTON_TEXT_INVALID")
                actions = [k for k in INLINE_ACTIONS if k in b]
                if not actions:
                    raise ApiError.bad(
                        "can't parse inline keyboard button: Text buttons are unallowed in the "
                        "inline keyboard"
                    )
                if len(actions) > 1:
                    raise ApiError.bad(
                        "can't parse inline keyboard button: exactly one of the optional fields "
                        "must be used"
                    )
                if "callback_data" in b:
                    data = b["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                        raise ApiError.bad("BUTTON_DATA_INVALID")
                if "url" in b and (not isinstance(b["url"], str) or not _URL_RE.match(b["url"])):
                    raise ApiError.bad("BUTTON_URL_INVALID")
        if count > MAX_INLINE_BUTTONS:
            raise ApiError.bad("reply markup is too long")
        return obj
    if inline_only:
        raise ApiError.bad("inline keyboard expected")
    if "keyboard" in obj:
        kb = obj["keyboard"]
        if not isinstance(kb, list) or not all(isinstance(r, list) for r in kb):
            raise ApiError.bad(
                'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
            )
        for row in kb:
            for b in row:
                if isinstance(b, str):
                    continue
                if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                    raise ApiError.bad(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
        if not any(kb):
            raise ApiError.bad("keyboard must be non-empty")
        return obj
    if "remove_keyboard" in obj:
        if obj["remove_keyboard"] is not True:
            raise ApiError.bad(
                'can\'t parse ReplyKeyboardRemove: field "remove_keyboard" must be true'
            )
        return obj
    if "force_reply" in obj:
        if obj["force_reply"] is not True:
            raise ApiError.bad('can\'t parse ForceReply: field "force_reply" must be true')
        return obj
    raise ApiError.bad("can't parse reply keyboard markup JSON object")
