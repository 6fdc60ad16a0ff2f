"""BotApiSandbox: a local emulator of the Telegram Bot API over real HTTP (aiohttp).

The bot under test talks to it exactly as to api.telegram.org (``base_url``/``base_file_url``),
while tests inject updates and read what the bot did through the Python API of this class.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import inspect
import itertools
import json
import math
import random
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .api_chats import ChatsApi
from .api_commands import CommandsApi
from .api_media import MediaApi
from .api_messages import MessagesApi
from .api_topics import TopicsApi
from .common import (
    _LOST_RESPONSE,
    DEFAULT_UPDATE_TYPES,
    FILE_DIR,
    FILE_PREFIX,
    GROUP_ANONYMOUS_BOT,
    MEMBER_STATUSES,
    RATE_LIMITED,
    TOPIC_COLORS,
    _Chaos,
    _now,
    _Params,
    _Record,
    log,
)
from .faults_incoming import IncomingFaults, connection_closed
from .formatting import EntityParseError, parse_text
from .markup import validate_reply_markup
from .models import ApiError, SandboxChat, SandboxEvent, SandboxUser, SentMessage, StoredFile
from .photos import telegram_photo
from .send_faults import SendFaults


class BotApiSandbox(
    MessagesApi, CommandsApi, ChatsApi, MediaApi, TopicsApi, IncomingFaults, SendFaults
):
    """A local, faithful emulator of the Telegram Bot API. See module docstring."""

    def __init__(
        self,
        token: str = "123456789:SANDBOX-token-abcdefghijklmnop",
        bot_username: str = "thinka_sandbox_bot",
        bot_first_name: str = "Th.INKA",
        rate_limit: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        privacy_mode: bool = True,
    ) -> None:
        if not re.fullmatch(r"\d+:[\w-]+", token):
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.rate_limit = rate_limit
        self._faults: dict[str, collections.deque[ApiError]] = {}
        self._chaos: _Chaos | None = None
        # update_ids Telegram would now forget: confirmed by a later getUpdates offset or
        # answered 2xx by the webhook. What a bot must not lose once it is in here.
        self.confirmed_update_ids: set[int] = set()
        # Awaitables that return once the bot under test has nothing left to do (its update
        # queue is drained, its background work is done); wait_for_idle awaits them.
        self.idle_checks: list[Callable[[], Awaitable[None]]] = []
        self.privacy_mode = privacy_mode
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._started = False

        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, SandboxChat] = {}
        self._records: dict[int, dict[int, _Record]] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._user_ids = itertools.count(100000001)
        self._group_ids = itertools.count(4000000001)
        self._supergroup_ids = itertools.count(1000000001)

        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.chat_actions: list[dict[str, Any]] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._pressed_at: dict[str, float] = {}  # id -> time.monotonic() of the press
        # Telegram takes the answer to a button press only for a while after it (then: "query
        # is too old and response timeout expired"); the Bot API does not say how long, so by
        # default without limit here. A test sets seconds, e.g. 0 for a bot that answers late.
        self.callback_answer_timeout: float | None = None
        self._subscribers: list[Callable[[SandboxEvent], Any]] = []
        self._bg_tasks: set[asyncio.Task[Any]] = set()

        # updates
        self._updates: list[dict[str, Any]] = []
        self._history: dict[int, dict[str, Any]] = {}
        self._next_update_id = 100000001
        self._max_fetched_update_id = 0
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._allowed_updates_list: list[str] | None = None
        self._update_event = asyncio.Event()
        self._poll_generation = 0
        self._webhook: dict[str, Any] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_error: tuple[int, str] | None = None

        # activity / waiting
        self._inflight = 0
        self._last_activity = 0.0
        self._sent_event = asyncio.Event()
        self._read_cursor: dict[int, int] = {}
        self._sent_at_last_injection = 0
        self._rate_window: deque[float] = deque()
        self._closing = False
        self._methods = self._collect_methods()
        self._init_send_faults()  # group limit, outages, lost answers (send_faults.py)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> BotApiSandbox:
        if self._started:
            return self
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._started = True
        self._closing = False
        return self

    async def stop(self) -> None:
        if not self._started:
            return
        self._closing = True
        self._notify_updates()
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._webhook_task
            self._webhook_task = None
        for t in list(self._bg_tasks):
            t.cancel()
        if self._runner:
            await self._runner.cleanup()
        self._runner = None
        self._started = False

    async def __aenter__(self) -> BotApiSandbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def allowed_updates(self) -> frozenset[str]:
        """The update types the bot asked for last (getUpdates or setWebhook)."""
        return self._allowed_updates

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ world building
    def add_user(
        self,
        first_name: str = "Test",
        language_code: str | None = "de",
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> SandboxUser:
        """Create a user and its private chat. The bot may only write after the user wrote."""
        uid = user_id if user_id is not None else next(self._user_ids)
        while user_id is None and uid in self.users:
            uid = next(self._user_ids)
        if uid <= 0 or uid == self.bot_id:
            raise ValueError("user ids are positive and differ from the bot id")
        user = SandboxUser(
            id=uid,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[uid] = user
        self.chats[uid] = SandboxChat(
            id=uid, type="private", first_name=first_name, last_name=last_name, username=username
        )
        self._records.setdefault(uid, {})
        return user

    def add_group(
        self,
        title: str = "Group",
        kind: str = "group",
        is_forum: bool = False,
        members: dict[int, str] | None = None,
        *,
        username: str | None = None,
        chat_id: int | None = None,
        bot_status: str = "administrator",
    ) -> SandboxChat:
        """Create a group or supergroup. The bot is in it with ``bot_status`` (default
        administrator, so it sees every message despite privacy mode)."""
        if kind not in ("group", "supergroup"):
            raise ValueError("kind must be 'group' or 'supergroup'")
        if is_forum and kind != "supergroup":
            raise ValueError("only supergroups can be forums")
        if bot_status not in MEMBER_STATUSES:
            raise ValueError(f"bad status {bot_status!r}")
        if chat_id is None:
            chat_id = (
                -next(self._group_ids)
                if kind == "group"
                else -(1000000000000 + next(self._supergroup_ids))
            )
        for uid, st in (members or {}).items():
            if st not in MEMBER_STATUSES:
                raise ValueError(f"bad status {st!r}")
            if uid not in self.users:
                raise ValueError(f"unknown user {uid}")
        chat = SandboxChat(
            id=chat_id,
            type=kind,
            title=title,
            username=username,
            is_forum=is_forum,
            members=dict(members or {}),
            bot_status=bot_status,
        )
        self.chats[chat_id] = chat
        self._records.setdefault(chat_id, {})
        return chat

    def set_member_status(
        self,
        chat_id: int | SandboxChat,
        user_id: int | SandboxUser,
        status: str,
        *,
        by: int | SandboxUser | None = None,
        is_member: bool = True,
    ) -> None:
        """Change a member's status, as the user (leaving) or an administrator `by` (kicking,
        restricting, promoting) would. For a user, Telegram tells the bot with a `chat_member`
        update, but only where the bot is an administrator and only if it asked for
        "chat_member" in allowed_updates; leaving or being removed also shows in the group as a
        `left_chat_member` service message. `is_member=False` with "restricted" is somebody
        restricted who is no longer in the chat. The bot's own status changes silently here."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"bad status {status!r}")
        chat = self.chats[self._cid(chat_id)]
        uid = self._uid(user_id)
        if uid == self.bot_id:
            chat.bot_status = status
            return
        old = chat.members.get(uid, "left")
        was_inside = uid not in chat.restricted_outside
        old_member = old in ("creator", "administrator", "member") or (
            old == "restricted" and was_inside
        )
        chat.members[uid] = status
        if status == "restricted" and not is_member:
            chat.restricted_outside.add(uid)
        else:
            chat.restricted_outside.discard(uid)
        if chat.type == "private" or uid not in self.users:
            return
        user = self.users[uid].to_dict()
        actor = self.users[self._uid(by)].to_dict() if by is not None else user
        if chat.bot_status in ("administrator", "creator"):
            self._inject(
                "chat_member",
                {
                    "chat": chat.to_dict(),
                    "from": actor,
                    "date": _now(),
                    "old_chat_member": self._member_dict(user, old, is_member=was_inside),
                    "new_chat_member": self._member_dict(
                        user, status, is_member=uid not in chat.restricted_outside
                    ),
                },
            )
        gone = status in ("left", "kicked") or uid in chat.restricted_outside
        if gone and old_member and chat.bot_status not in ("left", "kicked"):
            raw = {
                "message_id": chat.take_message_id(),
                "from": actor,
                "chat": chat.to_dict(),
                "date": _now(),
                "left_chat_member": user,
                "left_chat_participant": user,
            }
            self._records[chat.id][raw["message_id"]] = _Record(raw, from_bot=False)
            self._inject("message", raw)

    async def leave_group(self, user: int | SandboxUser, group: int | SandboxChat) -> None:
        """The user leaves the group (Telegram: "Leave group")."""
        self.set_member_status(group, user, "left")

    async def remove_from_group(
        self,
        admin: int | SandboxUser,
        group: int | SandboxChat,
        user: int | SandboxUser,
        *,
        ban: bool = True,
    ) -> None:
        """An administrator removes the user: banned ("kicked"), or removed without a ban."""
        self.set_member_status(group, user, "kicked" if ban else "left", by=admin)

    # ------------------------------------------------------------------ helpers (ids)
    @staticmethod
    def _cid(chat: int | SandboxChat | SandboxUser) -> int:
        return chat if isinstance(chat, int) else chat.id

    @staticmethod
    def _uid(user: int | SandboxUser) -> int:
        return user if isinstance(user, int) else user.id

    def _user(self, user: int | SandboxUser) -> SandboxUser:
        uid = self._uid(user)
        if uid not in self.users:
            raise ValueError(f"unknown user {uid}")
        return self.users[uid]

    # ------------------------------------------------------------------ injection
    def inject(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue a raw update of any kind and shape, exactly as given (fuzzing, odd clients);
        returns its update_id, or None when the bot's allowed_updates filter it out."""
        return self._inject(kind, payload)

    def _inject(self, kind: str, payload: dict[str, Any]) -> int | None:
        self._sent_at_last_injection = len(self.sent)
        if kind not in self._allowed_updates:
            return None
        upd = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        self._next_update_id += 1
        self._history[upd["update_id"]] = upd
        self._updates.append(upd)
        self._notify_updates()
        if self._webhook and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())
        return upd["update_id"]

    def _notify_updates(self) -> None:
        ev, self._update_event = self._update_event, asyncio.Event()
        ev.set()

    def _bot_sees(self, chat: SandboxChat, msg: dict[str, Any]) -> bool:
        """Privacy mode and membership: would this group message reach the bot?"""
        if chat.type == "private":
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        if chat.bot_status in ("administrator", "creator") or not self.privacy_mode:
            return True
        text = msg.get("text") or msg.get("caption") or ""
        m = re.match(r"/[A-Za-z0-9_]+(@(\w+))?", text)
        if m and (m.group(2) is None or m.group(2).lower() == self.bot_username.lower()):
            return True
        reply = msg.get("reply_to_message") or {}
        if (reply.get("from") or {}).get("id") == self.bot_id:
            return True
        return not any(
            k in msg
            for k in ("text", "caption", "photo", "document", "voice", "sticker", "video", "audio")
        )

    def _user_message(
        self,
        user: SandboxUser,
        chat: SandboxChat | None,
        message_thread_id: int | None,
        reply_to: Any,
        content: dict[str, Any],
        anonymous: bool = False,
    ) -> tuple[SandboxChat, dict[str, Any]]:
        if chat is None:
            chat = self.chats[user.id]
            if user.blocked:  # writing to a blocked bot restarts it, as the app does
                self._set_blocked(user, False)
            user.started = True
        elif chat.type != "private":
            status = chat.members.get(user.id)
            if status in ("left", "kicked") or user.id in chat.restricted_outside:
                raise ValueError(f"user {user.id} is not in chat {chat.id} ({status})")
            if status is None:
                chat.members[user.id] = "member"
        elif chat.id != user.id:
            raise ValueError("a user can only write in their own private chat with the bot")
        else:
            user.started = True
            if user.blocked:
                self._set_blocked(user, False)
        raw: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": user.to_dict(),
            "chat": chat.to_dict(),
            "date": _now(),
        }
        if anonymous:
            # An anonymous administrator writes as the group: Telegram shows the group as the
            # sender and GroupAnonymousBot as "from".
            if chat.type == "private" or chat.members.get(user.id) not in (
                "administrator",
                "creator",
            ):
                raise ValueError("only a group's administrators can write anonymously")
            raw["from"] = dict(GROUP_ANONYMOUS_BOT)
            raw["sender_chat"] = chat.to_dict()
        if message_thread_id is not None:
            topic = chat.topics.get(message_thread_id)
            if not chat.is_forum or topic is None or topic.get("deleted"):
                raise ValueError(f"no topic {message_thread_id} in chat {chat.id}")
            raw["message_thread_id"] = message_thread_id
            raw["is_topic_message"] = True
            created = self._records[chat.id].get(message_thread_id)
            if created and reply_to is None:
                raw["reply_to_message"] = copy.deepcopy(created.raw)
        if reply_to is not None:
            rid = (
                reply_to
                if isinstance(reply_to, int)
                else (
                    reply_to.message_id
                    if isinstance(reply_to, SentMessage)
                    else reply_to["message_id"]
                )
            )
            rec = self._records[chat.id].get(rid)
            if rec is None or rec.deleted:
                raise ValueError(f"no message {rid} in chat {chat.id} to reply to")
            replied = copy.deepcopy(rec.raw)
            replied.pop("reply_to_message", None)
            raw["reply_to_message"] = replied
        raw.update(content)
        self._records[chat.id][raw["message_id"]] = _Record(raw, from_bot=False)
        if self._bot_sees(chat, raw):
            self._inject("message", raw)
        return chat, copy.deepcopy(raw)

    def _resolve_inject_chat(self, chat: SandboxChat | int | None) -> SandboxChat | None:
        if chat is None:
            return None
        cid = self._cid(chat)
        if cid not in self.chats:
            raise ValueError(f"unknown chat {cid}")
        return self.chats[cid]

    async def send_message(
        self,
        user: SandboxUser | int,
        text: str,
        chat: SandboxChat | int | None = None,
        *,
        message_thread_id: int | None = None,
        reply_to: SentMessage | dict[str, Any] | int | None = None,
        anonymous: bool = False,
        mark_command: bool = True,
    ) -> dict[str, Any]:
        """Inject a text message from ``user`` (private chat by default); `anonymous=True`:
        an administrator writing as the group; `mark_command=False`: a client that leaves out
        the bot_command entity of a leading /command (the field is optional)."""
        u = self._user(user)
        content: dict[str, Any] = {"text": text}
        m = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if m and mark_command:
            content["entities"] = [{"offset": 0, "length": len(m.group(0)), "type": "bot_command"}]
        _, raw = self._user_message(
            u, self._resolve_inject_chat(chat), message_thread_id, reply_to, content, anonymous
        )
        return raw

    def _store_file(
        self, kind: str, content: bytes, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        size = None
        uploaded = content
        if kind == "photo":
            content, size = telegram_photo(content)
        n = next(self._file_seq)
        file_id = FILE_PREFIX.get(kind, "BQACAgIAAxkBAA") + secrets.token_urlsafe(48)
        unique = "AQAD" + secrets.token_urlsafe(9)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        else:
            ext = {
                "photo": ".jpg",
                "voice": ".oga",
                "sticker": ".webp",
                "video": ".mp4",
                "audio": ".mp3",
            }.get(kind, "")
        path = f"{FILE_DIR.get(kind, 'documents')}/file_{n}{ext}"
        f = StoredFile(
            file_id=file_id,
            file_unique_id=unique,
            kind=kind,
            content=content,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
            width=size[0] if size else None,
            height=size[1] if size else None,
            uploaded=uploaded,
        )
        self._files[file_id] = f
        self._files_by_path[path] = f
        return f

    def _media_content(self, f: StoredFile, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        extra = extra or {}
        base = {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": len(f.content),
        }
        if f.kind == "photo":
            thumb = self._files.get(f"{f.file_id}#thumb")
            width, height = f.width or 1280, f.height or 960
            small = {
                "file_id": thumb.file_id if thumb else f.file_id + "_s",
                "file_unique_id": f.file_unique_id + "s",
                "file_size": len(f.content),
                "width": 90 if width >= height else max(1, round(90 * width / height)),
                "height": 90 if height > width else max(1, round(90 * height / width)),
            }
            return {"photo": [small, {**base, "width": width, "height": height}]}
        if f.kind == "voice":
            return {
                "voice": {
                    **base,
                    "duration": int(extra.get("duration", 1)),
                    "mime_type": f.mime_type or "audio/ogg",
                }
            }
        if f.kind == "sticker":
            return {
                "sticker": {
                    **base,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": extra.get("emoji", "👍"),
                }
            }
        if f.kind in ("video", "animation"):
            return {
                f.kind: {
                    **base,
                    "width": 640,
                    "height": 480,
                    "duration": int(extra.get("duration", 1)),
                    **({"file_name": f.file_name} if f.file_name else {}),
                    **({"mime_type": f.mime_type} if f.mime_type else {}),
                }
            }
        if f.kind == "audio":
            return {
                "audio": {
                    **base,
                    "duration": int(extra.get("duration", 1)),
                    **({"file_name": f.file_name} if f.file_name else {}),
                    **({"mime_type": f.mime_type} if f.mime_type else {}),
                }
            }
        d = {**base}
        if f.file_name:
            d["file_name"] = f.file_name
        if f.mime_type:
            d["mime_type"] = f.mime_type
        return {"document": d}

    async def _send_media(
        self,
        user: SandboxUser | int,
        f: StoredFile,
        caption: str | None,
        chat: SandboxChat | int | None,
        message_thread_id: int | None,
        extra: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        u = self._user(user)
        content = self._media_content(f, extra)
        if caption:
            content["caption"] = caption
            # Clients mark a leading /command in a caption as they do in a text.
            m = re.match(r"/[A-Za-z0-9_]+(@\w+)?", caption)
            if m:
                content["caption_entities"] = [
                    {"offset": 0, "length": len(m.group(0)), "type": "bot_command"}
                ]
        if media_group_id:
            content["media_group_id"] = media_group_id
        _, raw = self._user_message(
            u, self._resolve_inject_chat(chat), message_thread_id, None, content, anonymous
        )
        return raw

    async def send_sticker(
        self,
        user: SandboxUser | int,
        emoji: str = "👍",
        chat: SandboxChat | int | None = None,
        *,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        f = self._store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", None, "image/webp")
        return await self._send_media(user, f, None, chat, message_thread_id, {"emoji": emoji})

    async def send_photo(
        self,
        user: SandboxUser | int,
        caption: str | None = None,
        chat: SandboxChat | int | None = None,
        *,
        content: bytes = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00sandbox\xff\xd9",
        message_thread_id: int | None = None,
        media_group_id: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """A photo; photos sharing a media_group_id arrive as an album (one update each)."""
        f = self._store_file("photo", content, None, "image/jpeg")
        raw = await self._send_media(
            user,
            f,
            caption,
            chat,
            message_thread_id,
            media_group_id=media_group_id,
            anonymous=anonymous,
        )
        return raw

    async def send_document(
        self,
        user: SandboxUser | int,
        file_name: str = "brief.pdf",
        mime_type: str = "application/pdf",
        content: bytes = b"%PDF-1.4\n% sandbox\n%%EOF\n",
        caption: str | None = None,
        chat: SandboxChat | int | None = None,
        *,
        message_thread_id: int | None = None,
        media_group_id: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """A file; files sharing a media_group_id arrive as an album (one update each)."""
        f = self._store_file("document", content, file_name, mime_type)
        return await self._send_media(
            user,
            f,
            caption,
            chat,
            message_thread_id,
            media_group_id=media_group_id,
            anonymous=anonymous,
        )

    async def send_voice(
        self,
        user: SandboxUser | int,
        duration: int = 3,
        content: bytes = b"OggS\x00sandbox-voice",
        chat: SandboxChat | int | None = None,
        *,
        caption: str | None = None,
        message_thread_id: int | None = None,
    ) -> dict[str, Any]:
        f = self._store_file("voice", content, None, "audio/ogg")
        return await self._send_media(
            user, f, caption, chat, message_thread_id, {"duration": duration}
        )

    async def edit_message(
        self, user: SandboxUser | int, message: dict[str, Any], text: str
    ) -> dict[str, Any]:
        """Inject an ``edited_message`` for a message the user sent earlier."""
        u = self._user(user)
        cid = message["chat"]["id"]
        rec = self._records.get(cid, {}).get(message["message_id"])
        if rec is None or rec.deleted or rec.from_bot or rec.raw["from"]["id"] != u.id:
            raise ValueError("that message was not sent by this user")
        key = "text" if "text" in rec.raw else "caption"
        rec.raw[key] = text
        if key == "text":
            m = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
            rec.raw.pop("entities", None)
            if m:
                rec.raw["entities"] = [
                    {"offset": 0, "length": len(m.group(0)), "type": "bot_command"}
                ]
        rec.raw["edit_date"] = _now()
        if self._bot_sees(self.chats[cid], rec.raw):
            self._inject("edited_message", rec.raw)
        return copy.deepcopy(rec.raw)

    async def press_button(
        self,
        user: SandboxUser | int,
        sent_message: SentMessage | int,
        callback_data: str,
        *,
        chat: SandboxChat | int | None = None,
        forge: bool = False,
    ) -> dict[str, Any]:
        """Inject a callback_query for an inline button of a bot message (current state).

        ``forge=True`` sends data that no button carries, as a modified client can: the bot must
        never trust callback_data, so tests use this to play the attacker.
        """
        u = self._user(user)
        if isinstance(sent_message, SentMessage):
            cid, mid = sent_message.chat_id, sent_message.message_id
        else:
            cid, mid = (self._cid(chat) if chat is not None else u.id), sent_message
        rec = self._records.get(cid, {}).get(mid)
        if rec is None or rec.deleted or not rec.from_bot:
            raise ValueError(f"message {mid} in chat {cid} is not a (live) bot message")
        rows = (rec.raw.get("reply_markup") or {}).get("inline_keyboard", [])
        if not forge and not any(
            b.get("callback_data") == callback_data for row in rows for b in row
        ):
            texts = [(b.get("text"), b.get("callback_data")) for row in rows for b in row]
            raise ValueError(
                f"message {mid} has no button with callback_data "
                f"{callback_data!r}; buttons: {texts}"
            )
        qid = str(secrets.randbits(62))
        self._callback_queries[qid] = False
        self._pressed_at[qid] = time.monotonic()
        query = {
            "id": qid,
            "from": u.to_dict(),
            "message": copy.deepcopy(rec.raw),
            "chat_instance": str(abs(hash((cid, self.bot_id))) % 10**18),
            "data": callback_data,
        }
        self._inject("callback_query", query)
        return copy.deepcopy(query)

    def _member_dict(
        self, user: dict[str, Any], status: str, *, is_member: bool = True
    ) -> dict[str, Any]:
        d: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            d["is_anonymous"] = False
        elif status == "administrator":
            d.update(
                {
                    k: True
                    for k in (
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                        "can_pin_messages",
                        "can_manage_topics",
                    )
                }
            )
            d.update({"can_be_edited": False, "is_anonymous": False, "can_promote_members": False})
        elif status == "restricted":
            d.update(
                {
                    k: False
                    for k in (
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_send_messages",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_manage_topics",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_edit_tag",
                        "can_react_to_messages",
                    )
                }
            )
            d.update({"is_member": is_member, "until_date": 0})
        elif status == "kicked":
            d["until_date"] = 0
        return d

    def _bot_member_changed(
        self, chat: SandboxChat, by: dict[str, Any], old: str, new: str
    ) -> dict[str, Any]:
        """The my_chat_member update for a change of the bot's own status in `chat`."""
        update = {
            "chat": chat.to_dict(),
            "from": by,
            "date": _now(),
            "old_chat_member": self._member_dict(self.bot_user, old),
            "new_chat_member": self._member_dict(self.bot_user, new),
        }
        self._inject("my_chat_member", update)
        return copy.deepcopy(update)

    def _set_blocked(self, user: SandboxUser, blocked: bool) -> None:
        user.blocked = blocked
        if not blocked:
            user.started = True
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self._bot_member_changed(self.chats[user.id], user.to_dict(), old, new)

    async def block_bot(self, user: SandboxUser | int) -> None:
        u = self._user(user)
        if not u.blocked:
            self._set_blocked(u, True)

    async def unblock_bot(self, user: SandboxUser | int) -> None:
        u = self._user(user)
        if u.blocked:
            self._set_blocked(u, False)

    async def add_bot_to_group(
        self, user: SandboxUser | int, group: SandboxChat | int, status: str = "member"
    ) -> dict[str, Any]:
        """The user adds the bot to the group: my_chat_member (+ new_chat_members message)."""
        u = self._user(user)
        chat = self.chats[self._cid(group)]
        old = chat.bot_status if chat.bot_status != status else "left"
        chat.bot_status = status
        chat.members.setdefault(u.id, "member")
        upd = self._bot_member_changed(chat, u.to_dict(), old, status)
        if old in ("left", "kicked"):
            raw = {
                "message_id": chat.take_message_id(),
                "from": u.to_dict(),
                "chat": chat.to_dict(),
                "date": _now(),
                "new_chat_members": [self.bot_user],
                "new_chat_member": self.bot_user,
                "new_chat_participant": self.bot_user,
            }
            self._records[chat.id][raw["message_id"]] = _Record(raw, from_bot=False)
            self._inject("message", raw)
        return upd

    async def remove_bot_from_group(
        self, user: SandboxUser | int, group: SandboxChat | int, status: str = "kicked"
    ) -> dict[str, Any]:
        """The user (an admin) removes the bot: my_chat_member, and nothing more from the group."""
        if status not in ("left", "kicked"):
            raise ValueError("the bot is removed as 'left' or 'kicked'")
        u = self._user(user)
        chat = self.chats[self._cid(group)]
        old, chat.bot_status = chat.bot_status, status
        return self._bot_member_changed(chat, u.to_dict(), old, status)

    async def create_forum_topic(
        self,
        user: SandboxUser | int,
        group: SandboxChat | int,
        name: str,
        icon_color: int = TOPIC_COLORS[0],
    ) -> int:
        """A user creates a topic in a forum; returns its message_thread_id."""
        u = self._user(user)
        chat = self.chats[self._cid(group)]
        if not chat.is_forum:
            raise ValueError("the chat is not a forum")
        raw = self._new_topic(chat, name, icon_color, u.to_dict())
        self._inject("message", raw)
        return raw["message_id"]

    # ------------------------------------------------------------------ reading
    def messages_to(
        self, chat_id: int | SandboxChat | SandboxUser, *, include_deleted: bool = False
    ) -> list[SentMessage]:
        cid = self._cid(chat_id)
        return [m for m in self.sent if m.chat_id == cid and (include_deleted or not m.deleted)]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        return copy.deepcopy(self._commands.get((self._scope_key(scope), language_code), []))

    def subscribe(self, callback: Callable[[SandboxEvent], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` (sync or async) on every bot action; returns unsubscribe."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def file_content(self, file_id: str) -> bytes:
        """A file as Telegram keeps it (a photo re-encoded as JPEG, at most 1280 px)."""
        return self._files[file_id].content

    def uploaded_content(self, file_id: str) -> bytes:
        """A file exactly as the bot uploaded it (test introspection, not a Bot API call)."""
        f = self._files[file_id]
        return f.uploaded if f.uploaded is not None else f.content

    @property
    def pending_updates(self) -> int:
        return len(self._updates)

    def fetched(self, update_id: int) -> bool:
        """Whether the bot has received the update (getUpdates returned it, or the webhook)."""
        return self._max_fetched_update_id >= update_id

    async def wait_for_message(
        self,
        chat_id: int | SandboxChat | SandboxUser,
        *,
        after: int | SentMessage | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        predicate: Callable[[SentMessage], bool] | None = None,
    ) -> SentMessage:
        """Wait for the next new bot message to ``chat_id`` and return it.

        "New" means: with ``after=None``, not yet returned by an earlier ``wait_for_message`` for
        this chat and sent after the most recent injected update (anything the bot sent
        before the last injection is old). Successive calls thus return successive replies.
        ``after=n``: the first message with per-chat index >= n (counting deleted ones);
        ``after=<SentMessage>``: the first message after that one. ``predicate`` skips
        messages it rejects. Raises TimeoutError listing what the chat got.
        """
        cid = self._cid(chat_id)
        if isinstance(after, SentMessage):
            start = self.sent.index(after) + 1
        elif isinstance(after, int):
            idxs = [i for i, m in enumerate(self.sent) if m.chat_id == cid]
            start = idxs[after] if after < len(idxs) else len(self.sent)
        else:
            start = max(self._read_cursor.get(cid, 0), self._sent_at_last_injection)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i in range(start, len(self.sent)):
                m = self.sent[i]
                if m.chat_id == cid and (predicate is None or predicate(m)):
                    self._read_cursor[cid] = i + 1
                    return m
            remaining = deadline - loop.time()
            if remaining <= 0:
                got = [(m.kind, m.text) for m in self.sent if m.chat_id == cid]
                raise TimeoutError(
                    f"no new message to chat {cid} within {timeout}s; chat has {got[-5:]}"
                )
            ev = self._sent_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), remaining)

    async def wait_for_idle(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        quiet: float = 0.05,
    ) -> None:
        """Return once the bot is idle: every injected update has been fetched by getUpdates
        (or delivered to the webhook), no API request other than a waiting getUpdates is in
        progress, and no API request has started or finished for ``quiet`` seconds.
        Raises TimeoutError after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            unfetched = [u for u in self._updates if u["update_id"] > self._max_fetched_update_id]
            if not unfetched and self._inflight == 0 and loop.time() - self._last_activity >= quiet:
                # The HTTP side is quiet; ask the bot side too (work between two requests, such
                # as database writes, makes no traffic). If that caused traffic, look again.
                before = self._last_activity
                for settled in list(self.idle_checks):
                    await asyncio.wait_for(settled(), max(0.1, deadline - loop.time()))
                if self._last_activity == before and self._inflight == 0:
                    return
                continue
            if loop.time() > deadline:
                raise TimeoutError(
                    f"sandbox not idle after {timeout}s: {len(unfetched)} "
                    f"unfetched updates, {self._inflight} requests in flight"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ events
    def _emit(
        self,
        kind: str,
        message: SentMessage | None = None,
        chat_id: int | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if kind == "sent":
            ev, self._sent_event = self._sent_event, asyncio.Event()
            ev.set()
        event = SandboxEvent(
            kind=kind,
            message=message,
            chat_id=chat_id if chat_id is not None else (message.chat_id if message else None),
            params=params or {},
        )
        for cb in list(self._subscribers):
            try:
                res = cb(event)
                if inspect.isawaitable(res):
                    task = asyncio.ensure_future(res)
                    self._bg_tasks.add(task)
                    task.add_done_callback(self._bg_tasks.discard)
            except Exception:
                log.exception("sandbox subscriber failed")

    # ------------------------------------------------------------------ HTTP
    def _collect_methods(self) -> dict[str, tuple[str, Callable[..., Any]]]:
        out = {}
        for name in dir(self):
            if name.startswith("api_"):
                canonical = name[4:]
                out[canonical.lower()] = (canonical, getattr(self, name))
        return out

    @staticmethod
    def _error(err: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
        if err.parameters:
            body["parameters"] = err.parameters
        return web.json_response(
            body, status=err.code, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Any]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes, str | None]] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError.bad("can't parse JSON encoded request body") from None
                if not isinstance(body, dict):
                    raise ApiError.bad("can't parse JSON encoded request body")
                raw.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                post = await request.post()
                for k, v in post.items():
                    if isinstance(v, web.FileField):
                        files[k] = (v.filename, v.file.read(), v.content_type)
                    elif isinstance(v, bytes | bytearray):
                        raw[k] = bytes(v).decode("utf-8", "replace")
                    else:
                        raw[k] = v
        return raw, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        entry = self._methods.get(request.match_info["method"].lower())
        if entry is None:
            return self._error(ApiError(404, "Not Found"))
        name, fn = entry
        loop = asyncio.get_running_loop()
        is_poll = name == "getUpdates"
        if not is_poll:
            self._inflight += 1
            self._last_activity = loop.time()
        try:
            raw, files = await self._read_params(request)
            params = _Params(raw, files)
            self.calls.append((name, params.normalized()))
            if await self._network(name, request, fn, params):
                raise connection_closed()
            fault = self._take_fault(name)
            if fault is None and self._chaos is not None:
                fault = self._chaos.fault(name, params.raw.get("chat_id"))
            if fault is not None and fault.code == _LOST_RESPONSE:
                # The request is carried out, but the answer never reaches the bot: it cannot
                # tell "done" from "not done", exactly as after a timeout on the real API.
                fetched = self._max_fetched_update_id
                await fn(params)
                self._max_fetched_update_id = fetched  # what the bot never received
                if request.transport is not None:
                    request.transport.abort()
                raise ApiError(504, "Gateway Timeout")
            if fault is not None:
                raise fault
            await self._send_fault(name, params, request, fn)  # switched on by a test
            if name.lower() in RATE_LIMITED:
                self._check_rate(loop.time())
            self._check_group_rate(name.lower(), params)
            result = await fn(params)
            await self._latency_after(name)
        except ApiError as err:
            return self._error(err)
        finally:
            if not is_poll:
                self._inflight -= 1
                self._last_activity = loop.time()
        return web.json_response(
            {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
        )

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        f = self._files_by_path.get(request.match_info["path"])
        if f is None:
            return self._error(ApiError(404, "Not Found"))
        return web.Response(body=f.content, content_type=f.mime_type or "application/octet-stream")

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with an error, as Telegram does on a bad
        day: 500/502 (the client sees a network error), 429 with retry_after, 403 …"""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        queue = self._faults.setdefault(method.lower(), collections.deque())
        for _ in range(times):
            queue.append(ApiError(status, description, parameters))

    def chaos(
        self,
        seed: int,
        rate: float,
        *,
        kinds: tuple[str, ...] = ("500", "429", "403", "timeout"),
        retry_after: int = 1,
    ) -> None:
        """From now on a seeded random `rate` of API calls fail, each with one of `kinds`:
        "500" Internal Server Error; "429" a flood wait of `retry_after` s; "403" the user
        blocked the bot (calls to private chats only); "timeout" the call is carried out but
        the connection drops before the answer. getUpdates only ever gets "500" or "timeout".
        `rate=0` ends it."""
        self._chaos = _Chaos(random.Random(seed), rate, kinds, retry_after) if rate else None

    @property
    def chaos_counts(self) -> dict[str, int]:
        return dict(self._chaos.counts) if self._chaos else {}

    def _take_fault(self, method: str) -> ApiError | None:
        queue = self._faults.get(method.lower())
        return queue.popleft() if queue else None

    def _check_rate(self, now: float) -> None:
        if self.rate_limit is None:
            return
        win = self._rate_window
        while win and now - win[0] >= 1.0:
            win.popleft()
        if len(win) >= self.rate_limit:
            retry = max(1, math.ceil(1.0 - (now - win[0])))
            self.send_fault_counts["rate-429"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        win.append(now)

    # ------------------------------------------------------------------ shared API logic
    def _chat(self, p: _Params, name: str = "chat_id") -> SandboxChat:
        v = p.raw.get(name)
        if v is None or v == "":
            raise ApiError.bad(f"{name} is empty")
        if isinstance(v, str) and v.strip().startswith("@"):
            uname = v.strip()[1:].lower()
            for c in self.chats.values():
                if c.type != "private" and (c.username or "").lower() == uname:
                    return c
            raise ApiError.bad("chat not found")
        try:
            cid = int(v)
        except (TypeError, ValueError):
            raise ApiError.bad("chat not found") from None
        chat = self.chats.get(cid)
        if chat is None:
            raise ApiError.bad("chat not found")
        return chat

    def _check_can_send(self, chat: SandboxChat) -> None:
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise ApiError.forbidden("bot was blocked by the user")
            if not user.started:
                raise ApiError.forbidden("bot can't initiate conversation with a user")
            return
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        if chat.bot_status == "kicked":
            raise ApiError.forbidden(f"bot was kicked from the {kind}")
        if chat.bot_status == "left":
            raise ApiError.forbidden(f"bot is not a member of the {kind}")

    def _thread(self, chat: SandboxChat, p: _Params) -> int | None:
        tid = p.int("message_thread_id")
        if tid is None or tid == 0:
            return None
        if chat.is_forum:
            topic = chat.topics.get(tid)
            if topic is None or topic.get("deleted"):
                raise ApiError.bad("message thread not found")
            if topic.get("closed") and chat.bot_status not in ("administrator", "creator"):
                raise ApiError.bad("TOPIC_CLOSED")
            return tid
        if chat.type == "supergroup":
            rec = self._records[chat.id].get(tid)
            if rec is not None and not rec.deleted:
                return tid
        raise ApiError.bad("message thread not found")

    def _reply_to(self, chat: SandboxChat, p: _Params) -> dict[str, Any] | None:
        rp = p.json("reply_parameters")
        mid = None
        allow = p.bool("allow_sending_without_reply")
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow = bool(rp.get("allow_sending_without_reply", allow))
            if rp.get("chat_id") not in (None, chat.id):
                chat = self._chat(_Params({"chat_id": rp["chat_id"]}, {}))
        elif p.has("reply_to_message_id"):
            mid = p.int("reply_to_message_id")
        if mid is None:
            return None
        rec = self._records[chat.id].get(int(mid))
        if rec is None or rec.deleted:
            if allow:
                return None
            raise ApiError.bad("message to be replied not found")
        replied = copy.deepcopy(rec.raw)
        replied.pop("reply_to_message", None)
        return replied

    def _markup(self, p: _Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        if not p.has("reply_markup"):
            return None
        rm = p.json("reply_markup")
        return validate_reply_markup(rm, inline_only=inline_only)

    @staticmethod
    def _format(
        text: str, p: _Params, entities_field: str = "entities"
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            return parse_text(text, p.str("parse_mode"), p.json(entities_field))
        except EntityParseError as e:
            raise ApiError.bad(f"can't parse entities: {e}") from None
        except ValueError:
            raise ApiError.bad("unsupported parse_mode") from None

    def _caption(self, p: _Params) -> tuple[str | None, list[dict[str, Any]]]:
        cap = p.str("caption")
        if cap is None:
            return None, []
        text, ents = self._format(cap, p, "caption_entities")
        if len(text) > 1024:
            raise ApiError.bad("message caption is too long")
        return (text or None), ents

    def _deliver(
        self,
        chat: SandboxChat,
        content: dict[str, Any],
        *,
        kind: str,
        method: str,
        p: _Params | None,
        thread_id: int | None = None,
        reply_to: dict[str, Any] | None = None,
        reply_markup: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> SentMessage:
        raw: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": self.bot_user,
            "chat": chat.to_dict(),
            "date": _now(),
        }
        if thread_id is not None:
            raw["message_thread_id"] = thread_id
            if chat.is_forum:
                raw["is_topic_message"] = True
        if reply_to is not None:
            raw["reply_to_message"] = reply_to
        elif thread_id is not None and chat.is_forum:
            created = self._records[chat.id].get(thread_id)
            if created is not None:
                raw["reply_to_message"] = copy.deepcopy(created.raw)
        raw.update(content)
        if extra:
            raw.update(extra)
        if reply_markup and "inline_keyboard" in reply_markup:
            raw["reply_markup"] = {"inline_keyboard": reply_markup["inline_keyboard"]}
        text = raw.get("text", raw.get("caption"))
        sm = SentMessage(
            message_id=raw["message_id"],
            chat_id=chat.id,
            text=text,
            reply_markup=copy.deepcopy(reply_markup),
            parse_mode=p.str("parse_mode") if p else None,
            kind=kind,
            message_thread_id=thread_id,
            raw=raw,
            method=method,
            entities=list(raw.get("entities", raw.get("caption_entities", []))),
        )
        self._records[chat.id][sm.message_id] = _Record(raw, from_bot=True, sent=sm)
        self.sent.append(sm)
        self._emit("sent", sm)
        return sm

    def _prepare_send(
        self, p: _Params
    ) -> tuple[SandboxChat, int | None, dict[str, Any] | None, dict[str, Any] | None]:
        chat = self._chat(p)
        self._check_can_send(chat)
        thread = self._thread(chat, p)
        markup = self._markup(p)
        reply_to = self._reply_to(chat, p)
        if reply_to and thread is None and reply_to.get("message_thread_id") and chat.is_forum:
            thread = reply_to["message_thread_id"]
        return chat, thread, markup, reply_to
