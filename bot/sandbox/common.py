"""What every part of the sandbox shares: limits, parameter parsing, stored records."""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import random
import re
import time
from typing import Any

from .models import ApiError, SentMessage

log = logging.getLogger(__name__)

DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Who "sent" a message an anonymous group administrator wrote (Telegram's own service bot).
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
REACTION_EMOJI = frozenset(
    "❤ 👍 👎 🔥 🥰 👏 😁 🤔 🤯 😱 🤬 😢 🎉 🤩 🤮 💩 "
    "🙏 👌 🕊 🤡 🥱 🥴 😍 🐳 ❤‍🔥 🌚 🌭 💯 🤣 ⚡ 🍌 🏆 "
    "💔 🤨 😐 🍓 🍾 💋 🖕 😈 😴 😭 🤓 👻 👨‍💻 👀 🎃 🙈 "
    "😇 😨 🤝 ✍ 🤗 🫡 🎅 🎄 ☃ 💅 🤪 🗿 🆒 💘 🙉 🦄 "
    "😘 💊 🙊 😎 👾 🤷‍♂ 🤷 🤷‍♀ 😡 ".split()
)
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
# Methods that make a message in a chat: what Telegram's per-group limit counts.
MESSAGE_METHODS = frozenset(
    m.lower()
    for m in (
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendSticker",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendMediaGroup",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "sendVideoNote",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )
)
# Methods that count against the global rate limit: those, and edits.
RATE_LIMITED = MESSAGE_METHODS | frozenset(
    m.lower()
    for m in ("editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia")
)
FILE_PREFIX = {
    "photo": "AgACAgIAAxkBAA",
    "document": "BQACAgIAAxkBAA",
    "voice": "AwACAgIAAxkBAA",
    "sticker": "CAACAgIAAxkBAA",
    "video": "BAACAgIAAxkBAA",
    "audio": "CQACAgIAAxkBAA",
    "animation": "CgACAgIAAxkBAA",
}
FILE_DIR = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "audio": "music",
    "animation": "animations",
}
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use "
    "deleteWebhook to delete the webhook first"
)

_JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "allowed_updates",
    "commands",
    "scope",
    "media",
    "reply_parameters",
    "link_preview_options",
    "reaction",
    "message_ids",
    "permissions",
}


class _Params:
    """Request parameters: form / multipart values are strings (JSON-encoded for non-strings,
    like PTB sends them); a JSON body gives typed values. Accessors decode on demand."""

    def __init__(self, raw: dict[str, Any], files: dict[str, tuple[str, bytes, str | None]]):
        self.raw = raw
        self.files = files

    def has(self, name: str) -> bool:
        return name in self.raw and self.raw[name] not in (None, "")

    def str(self, name: str, default: str | None = None) -> str | None:
        v = self.raw.get(name)
        if v is None:
            return default
        return v if isinstance(v, str) else json.dumps(v)

    def int(self, name: str, default: int | None = None) -> int | None:
        v = self.raw.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        if isinstance(v, float) and v.is_integer():
            return int(v)
        try:
            return int(str(v).strip())
        except ValueError:
            raise ApiError.bad(f"invalid {name} specified") from None

    def float(self, name: str, default: float = 0.0) -> float:
        v = self.raw.get(name)
        if v is None or v == "":
            return default
        try:
            return float(v)
        except (TypeError, ValueError):
            raise ApiError.bad(f"invalid {name} specified") from None

    def bool(self, name: str, default: bool = False) -> bool:
        v = self.raw.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            return v
        return str(v).strip().lower() in ("true", "1", "yes")

    def json(self, name: str, default: Any = None) -> Any:
        v = self.raw.get(name)
        if v is None or v == "":
            return default
        if not isinstance(v, str):
            return v
        try:
            return json.loads(v)
        except ValueError:
            raise ApiError.bad(f"can't parse {name} JSON object") from None

    def normalized(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.raw.items():
            if isinstance(v, str):
                s = v.strip()
                if k in _JSON_FIELDS or s[:1] in "{[":
                    with contextlib.suppress(ValueError):
                        v = json.loads(s)
                elif re.fullmatch(r"-?\d+", s) and (
                    k.endswith("_id")
                    or k
                    in (
                        "offset",
                        "limit",
                        "timeout",
                        "duration",
                        "cache_time",
                        "until_date",
                        "max_connections",
                        "icon_color",
                    )
                ):
                    v = int(s)
                elif s in ("true", "false"):
                    v = s == "true"
            out[k] = v
        for k, (fname, _content, _ct) in self.files.items():
            out.setdefault(k, f"<upload {fname}>")
        return out


class _Record:
    """Server-side state of one message in one chat."""

    __slots__ = ("deleted", "from_bot", "raw", "reactions", "sent")

    def __init__(self, raw: dict[str, Any], from_bot: bool, sent: SentMessage | None = None):
        self.raw = raw
        self.from_bot = from_bot
        self.sent = sent
        self.deleted = False
        self.reactions: list[dict[str, Any]] = []


_CONTENT_KINDS = (
    "text",
    "photo",
    "document",
    "voice",
    "sticker",
    "video",
    "audio",
    "animation",
    "location",
)


def _kind_of(content: dict[str, Any]) -> str:
    """The kind of a message from the content field it carries."""
    return next((k for k in _CONTENT_KINDS if k in content), "text")


def _now() -> int:
    return int(time.time())


_LOST_RESPONSE = -1  # pseudo status of a "timeout" fault


class _Chaos:
    def __init__(
        self, rng: random.Random, rate: float, kinds: tuple[str, ...], retry_after: int
    ) -> None:
        self.rng, self.rate, self.kinds, self.retry_after = rng, rate, kinds, retry_after
        self.counts: collections.Counter[str] = collections.Counter()

    def fault(self, method: str, chat_id: Any) -> ApiError | None:
        if self.rng.random() >= self.rate:
            return None
        kinds = self.kinds
        if method == "getUpdates":
            kinds = tuple(k for k in kinds if k in ("500", "timeout"))
        elif not (isinstance(chat_id, int | str) and str(chat_id).isdigit()):
            kinds = tuple(k for k in kinds if k != "403")  # 403 "blocked" is for private chats
        if not kinds:
            return None
        kind = self.rng.choice(kinds)
        self.counts[kind] += 1
        if kind == "500":
            return ApiError(500, "Internal Server Error")
        if kind == "429":
            return ApiError(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        if kind == "403":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        return ApiError(_LOST_RESPONSE, "lost response")
