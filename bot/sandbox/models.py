"""Data classes of the sandbox: users, chats, what the bot sent, and API errors."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ApiError", "SandboxChat", "SandboxEvent", "SandboxUser", "SentMessage", "StoredFile"]


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": code, "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    @classmethod
    def bad(cls, what: str) -> ApiError:
        return cls(400, f"Bad Request: {what}")

    @classmethod
    def forbidden(cls, what: str) -> ApiError:
        return cls(403, f"Forbidden: {what}")


@dataclass
class SandboxUser:
    """A simulated Telegram user; ``started``/``blocked`` describe its private chat with the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False
    started: bool = False
    blocked: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d

    @property
    def chat_id(self) -> int:
        return self.id


@dataclass
class SandboxChat:
    """A private chat, group or supergroup (optionally a forum)."""

    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)
    # Users "restricted" but no longer in the chat (ChatMemberRestricted.is_member false).
    restricted_outside: set[int] = field(default_factory=set)
    bot_status: str = "member"
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_message_id: int = 1

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            d["first_name"] = self.first_name or ""
            if self.last_name:
                d["last_name"] = self.last_name
        else:
            d["title"] = self.title or ""
        if self.username:
            d["username"] = self.username
        if self.is_forum:
            d["is_forum"] = True
        return d

    def take_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None  # a photo's real size, once re-encoded the way Telegram does
    height: int | None = None
    # The bytes as they were uploaded, before Telegram re-encoded a photo (tests read what the
    # bot sent; the Bot API itself never returns them).
    uploaded: bytes | None = None

    def to_file_dict(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }


@dataclass
class SentMessage:
    """A message the bot sent, kept up to date with later edits (``edits`` counts them)."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict[str, Any] | None
    parse_mode: str | None
    kind: str
    message_thread_id: int | None
    raw: dict[str, Any]
    edits: int = 0
    deleted: bool = False
    method: str = "sendMessage"
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Inline keyboard rows (empty list when the message has no inline keyboard)."""
        rm = self.reply_markup or {}
        return copy.deepcopy(rm.get("inline_keyboard", []))

    @property
    def button_texts(self) -> list[str]:
        """Texts of all buttons, row by row: inline keyboard or reply keyboard."""
        rm = self.reply_markup or {}
        rows = rm.get("inline_keyboard") or rm.get("keyboard") or []
        return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]

    def callback_data(self, text: str) -> str:
        """The callback_data of the inline button labelled ``text`` (KeyError if none)."""
        for row in self.buttons:
            for b in row:
                if b.get("text") == text and "callback_data" in b:
                    return b["callback_data"]
        raise KeyError(
            f"no inline button {text!r} with callback_data; buttons: {self.button_texts}"
        )


@dataclass
class SandboxEvent:
    """Passed to ``subscribe`` callbacks.

    kind: "sent" | "edited" | "deleted" | "callback_answer" | "chat_action" | "reaction"
    """

    kind: str
    message: SentMessage | None = None
    chat_id: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
