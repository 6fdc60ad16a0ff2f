"""Bot API methods of the sandbox: command menus per scope and language.

A mixin of BotApiSandbox (server.py): the methods use its state through self."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from .common import COMMAND_SCOPES, _Params
from .models import ApiError


class CommandsApi:
    # ---- commands
    @staticmethod
    def _scope_key(scope: dict[str, Any] | None) -> str:
        if not scope or scope.get("type") == "default":
            return json.dumps({"type": "default"})
        return json.dumps(scope, sort_keys=True)

    def _scope_and_lang(self, p: _Params) -> tuple[str, str]:
        scope = p.json("scope")
        if scope is not None:
            if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
                raise ApiError.bad("can't parse BotCommandScope: unsupported scope type")
            if scope["type"] in ("chat", "chat_administrators", "chat_member"):
                chat = self._chat(_Params({"chat_id": scope.get("chat_id")}, {}))
                scope = {**scope, "chat_id": chat.id}
                if scope["type"] == "chat_member":
                    uid = scope.get("user_id")
                    try:
                        uid = int(uid)  # type: ignore[arg-type]
                    except (TypeError, ValueError):
                        raise ApiError.bad("user not found") from None
                    if uid not in self.users:
                        raise ApiError.bad("user not found")
                    scope["user_id"] = uid
        lang = p.str("language_code", "") or ""
        if lang and not re.fullmatch(r"[a-z]{2}", lang):
            raise ApiError.bad("invalid language code specified")
        return self._scope_key(scope), lang

    async def api_setMyCommands(self, p: _Params) -> bool:
        cmds = p.json("commands")
        if not isinstance(cmds, list):
            raise ApiError.bad("can't parse commands JSON object")
        if len(cmds) > 100:
            raise ApiError.bad("too many commands")
        clean = []
        for c in cmds:
            if not isinstance(c, dict):
                raise ApiError.bad("can't parse BotCommand: BotCommand should be an Object")
            for f in ("command", "description"):
                if not isinstance(c.get(f), str):
                    raise ApiError.bad(f"can't parse BotCommand: Can't find field \"{f}\"")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c["command"]):
                raise ApiError.bad("BOT_COMMAND_INVALID")
            desc = c["description"].strip()
            if not desc:
                raise ApiError.bad("command description must be non-empty")
            if len(desc) > 256:
                raise ApiError.bad("command description is too long")
            clean.append({"command": c["command"], "description": desc})
        key = self._scope_and_lang(p)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    async def api_getMyCommands(self, p: _Params) -> list[dict[str, str]]:
        return copy.deepcopy(self._commands.get(self._scope_and_lang(p), []))

    async def api_deleteMyCommands(self, p: _Params) -> bool:
        self._commands.pop(self._scope_and_lang(p), None)
        return True

    async def api_setMyName(self, p: _Params) -> bool:
        name = p.str("name", "") or ""
        if len(name) > 64:
            raise ApiError.bad("bot name is too long")
        return True

    async def api_setMyDescription(self, p: _Params) -> bool:
        if len(p.str("description", "") or "") > 512:
            raise ApiError.bad("bot description is too long")
        return True

    async def api_setMyShortDescription(self, p: _Params) -> bool:
        if len(p.str("short_description", "") or "") > 120:
            raise ApiError.bad("bot short description is too long")
        return True

    async def api_setChatMenuButton(self, p: _Params) -> bool:
        if p.has("chat_id"):
            self._chat(p)
        return True

    async def api_getChatMenuButton(self, p: _Params) -> dict[str, Any]:
        return {"type": "commands"}
