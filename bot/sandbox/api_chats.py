"""Bot API methods of the sandbox, chats and members: getChat, getChatMember, leaving,
reactions, chat actions.

A mixin of BotApiSandbox (server.py): the methods use its state through self."""

from __future__ import annotations

from typing import Any

from .common import CHAT_ACTIONS, REACTION_EMOJI, _Params
from .models import ApiError


class ChatsApi:
    # ---- chats
    async def api_sendChatAction(self, p: _Params) -> bool:
        chat = self._chat(p)
        self._check_can_send(chat)
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise ApiError.bad("wrong parameter action in request")
        self._thread(chat, p)
        entry = {
            "chat_id": chat.id,
            "action": action,
            "message_thread_id": p.int("message_thread_id"),
        }
        self.chat_actions.append(entry)
        self._emit("chat_action", chat_id=chat.id, params=entry)
        return True

    async def api_getChat(self, p: _Params) -> dict[str, Any]:
        chat = self._chat(p)
        d = chat.to_dict()
        d.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.type == "private":
            u = self.users[chat.id]
            if u.username:
                d["username"] = u.username
        else:
            d["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        return d

    async def api_getChatMember(self, p: _Params) -> dict[str, Any]:
        chat = self._chat(p)
        uid = p.int("user_id")
        if uid is None:
            raise ApiError.bad("user_id is empty")
        if uid == self.bot_id:
            status = chat.bot_status if chat.type != "private" else "member"
            return self._member_dict(self.bot_user, status)
        user = self.users.get(uid)
        if user is None:
            raise ApiError.bad("user not found")
        if chat.type == "private":
            if chat.id != uid:
                raise ApiError.bad("user not found")
            return self._member_dict(user.to_dict(), "member")
        return self._member_dict(
            user.to_dict(),
            chat.members.get(uid, "left"),
            is_member=uid not in chat.restricted_outside,
        )

    async def api_getChatAdministrators(self, p: _Params) -> list[dict[str, Any]]:
        chat = self._chat(p)
        if chat.type == "private":
            raise ApiError.bad("there are no administrators in the private chat")
        out = [
            self._member_dict(self.users[u].to_dict(), st)
            for u, st in chat.members.items()
            if st in ("creator", "administrator")
        ]
        if chat.bot_status in ("creator", "administrator"):
            out.append(self._member_dict(self.bot_user, chat.bot_status))
        return out

    async def api_getChatMemberCount(self, p: _Params) -> int:
        chat = self._chat(p)
        if chat.type == "private":
            return 2
        n = sum(
            1
            for st in chat.members.values()
            if st in ("creator", "administrator", "member", "restricted")
        )
        return n + (1 if chat.bot_status not in ("left", "kicked") else 0)

    async def api_leaveChat(self, p: _Params) -> bool:
        chat = self._chat(p)
        if chat.type == "private":
            raise ApiError.bad("chat member status can't be changed in private chats")
        if chat.bot_status in ("left", "kicked"):
            kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
            raise ApiError.forbidden(f"bot is not a member of the {kind}")
        old, chat.bot_status = chat.bot_status, "left"
        # Any change of the bot's own membership is a my_chat_member update, its own leaving
        # too (from: the bot). It is the last update from this chat: _bot_sees drops the rest.
        self._bot_member_changed(chat, self.bot_user, old, "left")
        return True

    async def api_setMessageReaction(self, p: _Params) -> bool:
        chat = self._chat(p)
        mid = p.int("message_id")
        rec = self._records[chat.id].get(mid) if mid is not None else None
        if rec is None or rec.deleted:
            raise ApiError.bad("message to react not found")
        reaction = p.json("reaction", []) or []
        if not isinstance(reaction, list):
            raise ApiError.bad("can't parse reaction JSON object")
        if len(reaction) > 1:
            raise ApiError.bad("REACTIONS_TOO_MANY")
        for r in reaction:
            if not isinstance(r, dict) or r.get("type") not in ("emoji", "custom_emoji"):
                raise ApiError.bad("REACTION_INVALID")
            emoji = str(r.get("emoji")).replace("\ufe0f", "")
            if r["type"] == "emoji" and emoji not in REACTION_EMOJI:
                raise ApiError.bad("REACTION_INVALID")
        rec.reactions = reaction
        self._emit("reaction", rec.sent, chat.id, {"message_id": mid, "reaction": reaction})
        return True

    async def api_pinChatMessage(self, p: _Params) -> bool:
        chat = self._chat(p)
        mid = p.int("message_id")
        rec = self._records[chat.id].get(mid) if mid is not None else None
        if rec is None or rec.deleted:
            raise ApiError.bad("message to pin not found")
        if chat.type != "private" and chat.bot_status not in ("administrator", "creator"):
            raise ApiError.bad("not enough rights to manage pinned messages in the chat")
        return True

    async def api_unpinChatMessage(self, p: _Params) -> bool:
        self._chat(p)
        return True
