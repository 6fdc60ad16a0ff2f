"""Bot API methods of the sandbox: sending, editing, forwarding and copying messages;
callback answers.

A mixin of BotApiSandbox (server.py): the methods use its state through self."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout

from .common import (
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    DEFAULT_UPDATE_TYPES,
    NOT_MODIFIED,
    _now,
    _Params,
    _Record,
)
from .models import ApiError, SandboxChat


class MessagesApi:
    # ------------------------------------------------------------------ API methods
    async def api_getMe(self, p: _Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def api_logOut(self, p: _Params) -> bool:
        return True

    async def api_close(self, p: _Params) -> bool:
        return True

    async def api_getUpdates(self, p: _Params) -> list[dict[str, Any]]:
        if self._webhook:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = min(max(p.float("timeout", 0.0), 0.0), 50.0)
        if "allowed_updates" in p.raw:
            au = p.json("allowed_updates")
            if isinstance(au, list):
                self._allowed_updates_list = [str(x) for x in au] or None
                self._allowed_updates = (
                    frozenset(self._allowed_updates_list)
                    if self._allowed_updates_list
                    else DEFAULT_UPDATE_TYPES
                )
        self._poll_generation += 1
        gen = self._poll_generation
        self._notify_updates()  # wakes an older long poll, which then sees the conflict
        if offset > 0:
            self.confirmed_update_ids.update(
                u["update_id"] for u in self._updates if u["update_id"] < offset
            )
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if gen != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            if self._updates or self._closing:
                batch = copy.deepcopy(self._updates[:limit])
                if batch:
                    self._max_fetched_update_id = max(
                        self._max_fetched_update_id, batch[-1]["update_id"]
                    )
                    self._last_activity = loop.time()
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            ev = self._update_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), remaining)

    async def api_setWebhook(self, p: _Params) -> bool:
        url = p.str("url", "") or ""
        if not url:
            self._webhook = None
            return True
        if not re.match(r"https?://", url):
            raise ApiError.bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError.bad("bad webhook: secret token contains unallowed characters")
        if p.bool("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in p.raw:
            au = p.json("allowed_updates") or []
            self._allowed_updates_list = [str(x) for x in au] or None
            self._allowed_updates = (
                frozenset(self._allowed_updates_list)
                if self._allowed_updates_list
                else DEFAULT_UPDATE_TYPES
            )
        self._webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": p.int("max_connections", 40),
        }
        self._poll_generation += 1
        self._notify_updates()
        if self._updates and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())
        return True

    async def api_deleteWebhook(self, p: _Params) -> bool:
        self._webhook = None
        if p.bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_getWebhookInfo(self, p: _Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook["url"] if self._webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates_list:
                info["allowed_updates"] = list(self._allowed_updates_list)
            if self._webhook_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_error
        return info

    async def _webhook_loop(self) -> None:
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while self._webhook and self._updates and not self._closing:
                upd = self._updates[0]
                headers = {}
                if self._webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook["secret_token"]
                try:
                    async with session.post(
                        self._webhook["url"], json=upd, headers=headers
                    ) as resp:
                        ok = 200 <= resp.status < 300
                        status = resp.status
                except Exception as e:
                    ok, status = False, 0
                    self._webhook_error = (_now(), f"Connection failed: {e}")
                self._max_fetched_update_id = max(self._max_fetched_update_id, upd["update_id"])
                self._last_activity = asyncio.get_running_loop().time()
                if ok:
                    self.confirmed_update_ids.add(upd["update_id"])
                    if self._updates and self._updates[0] is upd:
                        self._updates.pop(0)
                else:
                    if status:
                        self._webhook_error = (_now(), f"Wrong response from the webhook: {status}")
                    await asyncio.sleep(0.2)

    async def api_sendMessage(self, p: _Params) -> dict[str, Any]:
        chat = self._chat(p)
        raw_text = p.str("text")
        if raw_text is None or not raw_text.strip():
            self._check_can_send(chat)
            raise ApiError.bad("message text is empty")
        chat, thread, markup, reply_to = self._prepare_send(p)
        text, ents = self._format(raw_text, p)
        if not text:
            raise ApiError.bad("message text is empty")
        if len(text) > 4096:
            raise ApiError.bad("message is too long")
        content: dict[str, Any] = {"text": text}
        if ents:
            content["entities"] = ents
        lpo = p.json("link_preview_options")
        if isinstance(lpo, dict) and lpo:
            content["link_preview_options"] = lpo
        sm = self._deliver(
            chat,
            content,
            kind="text",
            method="sendMessage",
            p=p,
            thread_id=thread,
            reply_to=reply_to,
            reply_markup=markup,
        )
        return copy.deepcopy(sm.raw)

    def _edit_target(self, p: _Params) -> _Record:
        if p.has("inline_message_id"):
            raise ApiError.bad("MESSAGE_ID_INVALID")
        chat = self._chat(p)
        mid = p.int("message_id")
        if mid is None:
            raise ApiError.bad("message identifier is not specified")
        rec = self._records[chat.id].get(mid)
        if rec is None or rec.deleted:
            raise ApiError.bad("message to edit not found")
        if not rec.from_bot:
            raise ApiError.bad("message can't be edited")
        return rec

    def _apply_edit(
        self, rec: _Record, changes: dict[str, Any], markup: dict[str, Any] | None, p: _Params
    ) -> dict[str, Any]:
        raw = rec.raw
        new_inline = (
            {"inline_keyboard": markup["inline_keyboard"]}
            if markup and "inline_keyboard" in markup and markup["inline_keyboard"]
            else None
        )
        same = all(raw.get(k) == v or (not raw.get(k) and not v) for k, v in changes.items())
        if same and raw.get("reply_markup") == new_inline:
            raise ApiError.bad(NOT_MODIFIED)
        for k, v in changes.items():
            if v:
                raw[k] = v
            else:
                raw.pop(k, None)
        if new_inline:
            raw["reply_markup"] = new_inline
        else:
            raw.pop("reply_markup", None)
        raw["edit_date"] = _now()
        sm = rec.sent
        if sm is not None:
            sm.text = raw.get("text", raw.get("caption"))
            sm.entities = list(raw.get("entities", raw.get("caption_entities", [])))
            sm.reply_markup = copy.deepcopy(new_inline)
            if "text" in changes or "caption" in changes:
                sm.parse_mode = p.str("parse_mode")
            sm.edits += 1
            self._emit("edited", sm)
        return copy.deepcopy(raw)

    async def api_editMessageText(self, p: _Params) -> dict[str, Any]:
        rec = self._edit_target(p)
        raw_text = p.str("text")
        if raw_text is None or not raw_text.strip():
            raise ApiError.bad("message text is empty")
        if "text" not in rec.raw:
            raise ApiError.bad("there is no text in the message to edit")
        markup = self._markup(p, inline_only=True)
        text, ents = self._format(raw_text, p)
        if not text:
            raise ApiError.bad("message text is empty")
        if len(text) > 4096:
            raise ApiError.bad("message is too long")
        return self._apply_edit(rec, {"text": text, "entities": ents}, markup, p)

    async def api_editMessageCaption(self, p: _Params) -> dict[str, Any]:
        rec = self._edit_target(p)
        if "text" in rec.raw:
            raise ApiError.bad("there is no caption in the message to edit")
        markup = self._markup(p, inline_only=True)
        cap, ents = self._caption(p)
        return self._apply_edit(rec, {"caption": cap, "caption_entities": ents}, markup, p)

    async def api_editMessageReplyMarkup(self, p: _Params) -> dict[str, Any]:
        rec = self._edit_target(p)
        markup = self._markup(p, inline_only=True)
        return self._apply_edit(rec, {}, markup, p)

    async def api_deleteMessage(self, p: _Params) -> bool:
        chat = self._chat(p)
        mid = p.int("message_id")
        rec = self._records[chat.id].get(mid) if mid is not None else None
        if rec is None or rec.deleted:
            raise ApiError.bad("message to delete not found")
        if (
            chat.type != "private"
            and not rec.from_bot
            and chat.bot_status not in ("administrator", "creator")
        ):
            raise ApiError.bad("message can't be deleted")
        self._delete_record(chat, rec)
        return True

    def _delete_record(self, chat: SandboxChat, rec: _Record) -> None:
        rec.deleted = True
        if rec.sent is not None:
            rec.sent.deleted = True
            self._emit("deleted", rec.sent)
        else:
            self._emit("deleted", None, chat.id, {"message_id": rec.raw["message_id"]})

    async def api_deleteMessages(self, p: _Params) -> bool:
        chat = self._chat(p)
        ids = p.json("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise ApiError.bad("message_ids must be a non-empty list of at most 100 ids")
        for mid in ids:
            rec = self._records[chat.id].get(int(mid))
            if rec is not None and not rec.deleted:
                self._delete_record(chat, rec)
        return True

    async def api_answerCallbackQuery(self, p: _Params) -> bool:
        qid = p.str("callback_query_id")
        timeout = self.callback_answer_timeout
        too_late = timeout is not None and time.monotonic() - self._pressed_at.get(qid, 0) > timeout
        if not qid or self._callback_queries.get(qid, True) or too_late:
            raise ApiError.bad(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise ApiError.bad("MESSAGE_TOO_LONG")
        self._callback_queries[qid] = True
        answer = {
            "callback_query_id": qid,
            "text": text,
            "show_alert": p.bool("show_alert"),
            "url": p.str("url"),
            "cache_time": p.int("cache_time", 0),
        }
        self.callback_answers.append(answer)
        self._emit("callback_answer", params=answer)
        return True
