"""Bot API methods of the sandbox: forum topics in the staff group.

A mixin of BotApiSandbox (server.py): the methods use its state through self."""

from __future__ import annotations

import copy
from typing import Any

from .common import TOPIC_COLORS, _now, _Params, _Record
from .models import ApiError, SandboxChat, SandboxUser


class TopicsApi:
    # ---- forum topics
    def _forum(self, p: _Params) -> SandboxChat:
        chat = self._chat(p)
        if not chat.is_forum:
            raise ApiError.bad("the chat is not a forum")
        if chat.bot_status not in ("administrator", "creator"):
            raise ApiError.bad("not enough rights to manage topics")
        return chat

    def _topic(self, chat: SandboxChat, p: _Params) -> dict[str, Any]:
        tid = p.int("message_thread_id")
        topic = chat.topics.get(tid) if tid is not None else None
        if topic is None or topic.get("deleted"):
            raise ApiError.bad("message thread not found")
        return topic

    def _new_topic(
        self, chat: SandboxChat, name: str, icon_color: int, creator: dict[str, Any]
    ) -> dict[str, Any]:
        mid = chat.take_message_id()
        raw = {
            "message_id": mid,
            "from": creator,
            "chat": chat.to_dict(),
            "date": _now(),
            "message_thread_id": mid,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        self._records[chat.id][mid] = _Record(raw, from_bot=creator["id"] == self.bot_id)
        chat.topics[mid] = {
            "message_thread_id": mid,
            "name": name,
            "icon_color": icon_color,
            "closed": False,
            "deleted": False,
        }
        return raw

    async def api_createForumTopic(self, p: _Params) -> dict[str, Any]:
        chat = self._forum(p)
        name = (p.str("name") or "").strip()
        if not name:
            raise ApiError.bad("TOPIC_TITLE_EMPTY")
        if len(name) > 128:
            raise ApiError.bad("TOPIC_TITLE_INVALID")
        color = p.int("icon_color", TOPIC_COLORS[0])
        if color not in TOPIC_COLORS:
            raise ApiError.bad("TOPIC_COLOR_INVALID")
        raw = self._new_topic(chat, name, color, self.bot_user)
        out = {"message_thread_id": raw["message_id"], "name": name, "icon_color": color}
        if p.has("icon_custom_emoji_id"):
            out["icon_custom_emoji_id"] = p.str("icon_custom_emoji_id")
        return out

    async def api_editForumTopic(self, p: _Params) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        name = p.str("name")
        if name is not None:
            name = name.strip()
            if not name or len(name) > 128:
                raise ApiError.bad("TOPIC_TITLE_INVALID" if name else "TOPIC_TITLE_EMPTY")
        if (name is None or name == topic["name"]) and not p.has("icon_custom_emoji_id"):
            raise ApiError.bad("TOPIC_NOT_MODIFIED")
        if name:
            topic["name"] = name
        return True

    async def _set_topic_closed(self, p: _Params, closed: bool) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        if topic["closed"] == closed:
            raise ApiError.bad("TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        return True

    async def api_closeForumTopic(self, p: _Params) -> bool:
        return await self._set_topic_closed(p, True)

    async def api_reopenForumTopic(self, p: _Params) -> bool:
        return await self._set_topic_closed(p, False)

    async def api_deleteForumTopic(self, p: _Params) -> bool:
        chat = self._forum(p)
        topic = self._topic(chat, p)
        topic["deleted"] = True
        tid = topic["message_thread_id"]
        for rec in self._records[chat.id].values():
            if rec.raw.get("message_thread_id") == tid and not rec.deleted:
                self._delete_record(chat, rec)
        return True

    async def api_getForumTopicIconStickers(self, p: _Params) -> list[dict[str, Any]]:
        return []

    def reactions(self, chat_id: int | SandboxChat | SandboxUser, message_id: int) -> list[str]:
        """Emoji the bot set on a message (setMessageReaction), e.g. ["👍"]."""
        rec = self._records.get(self._cid(chat_id), {}).get(message_id)
        if rec is None:
            return []
        return [r.get("emoji", "") for r in rec.reactions]

    async def redeliver(self, message: dict[str, Any]) -> None:
        """Deliver a user's message again in a new update (a client that sends twice): the
        bot must not act on it twice."""
        self._inject("message", copy.deepcopy(message))

    def update_ids(self) -> list[int]:
        """Every update_id handed out so far, oldest first."""
        return list(self._history)

    def update(self, update_id: int) -> dict[str, Any]:
        """The update as it was queued for the bot."""
        return copy.deepcopy(self._history[update_id])

    def resend_update(self, update_id: int) -> None:
        """Deliver an update again with its own update_id, as Telegram does when it did not
        see the confirmation (the process died before its next getUpdates)."""
        upd = copy.deepcopy(self._history[update_id])
        self.confirmed_update_ids.discard(update_id)
        self._updates.append(upd)
        self._updates.sort(key=lambda u: u["update_id"])
        self._max_fetched_update_id = min(self._max_fetched_update_id, update_id - 1)
        self._notify_updates()

    def topics(self, chat_id: int | SandboxChat) -> dict[int, dict[str, Any]]:
        """Forum topics of a chat: message_thread_id -> {name, icon_color, closed, deleted}."""
        return copy.deepcopy(self.chats[self._cid(chat_id)].topics)
