"""Bot API methods of the sandbox: photos, documents, voice, albums and files (getFile, downloads).

A mixin of BotApiSandbox (server.py): the methods use its state through self."""

from __future__ import annotations

import copy
import io
import re
import secrets
from typing import Any

from PIL import Image, UnidentifiedImageError

from .common import _kind_of, _Params, _Record
from .models import ApiError, SandboxChat, StoredFile

PHOTO_MAX_BYTES = 10 * 1024 * 1024


def _photo_size(content: bytes) -> tuple[int, int]:
    """An uploaded photo as Telegram checks it (sendPhoto: at most 10 MB, width + height at most
    10000, the ratio of the sides at most 20); not an image at all is refused too."""
    if len(content) > PHOTO_MAX_BYTES:
        raise ApiError.bad("PHOTO_SAVE_FILE_INVALID")
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise ApiError.bad("IMAGE_PROCESS_FAILED") from None
    if width + height > 10_000 or max(width, height) > 20 * min(width, height):
        raise ApiError.bad("PHOTO_INVALID_DIMENSIONS")
    return width, height


class MediaApi:
    # ---- media
    def _input_file(self, p: _Params, field: str, kind: str) -> StoredFile:
        if field in p.files:
            name, content, ctype = p.files[field]
            if kind == "photo":
                _photo_size(content)  # refused as Telegram refuses it
            return self._store_file(
                kind,
                content,
                name if kind in ("document", "audio", "video", "animation") else None,
                ctype,
            )
        v = p.str(field)
        if not v:
            raise ApiError.bad(f"there is no {field} in the request")
        return self._file_ref(v, p, kind)

    def _file_ref(self, v: str, p: _Params, kind: str) -> StoredFile:
        if v.startswith("attach://"):
            part = v[len("attach://") :]
            if part not in p.files:
                raise ApiError.bad(f"file {part} not found in the request")
            name, content, ctype = p.files[part]
            return self._store_file(kind, content, name if kind != "photo" else None, ctype)
        if re.match(r"https?://", v):
            name = v.rstrip("/").rsplit("/", 1)[-1] or None
            return self._store_file(kind, b"", name if kind != "photo" else None, None)
        f = self._files.get(v)
        if f is None:
            raise ApiError.bad("wrong file identifier/HTTP URL specified")
        compatible = {kind} | (
            {"document", "photo", "video", "audio", "voice", "animation"}
            if kind == "document"
            else set()
        )
        if f.kind not in compatible:
            raise ApiError.bad(
                f"type of file mismatch: can't use file of type "
                f"{f.kind.capitalize()} as {kind.capitalize()}"
            )
        return f

    async def _api_send_media(
        self, p: _Params, field: str, kind: str, method: str
    ) -> dict[str, Any]:
        chat, thread, markup, reply_to = self._prepare_send(p)
        f = self._input_file(p, field, kind)
        cap, ents = self._caption(p)
        content = self._media_content(
            f, {"duration": p.int("duration", 1) or 1, "emoji": p.str("emoji") or "👍"}
        )
        if cap and kind != "sticker":
            content["caption"] = cap
            if ents:
                content["caption_entities"] = ents
        sm = self._deliver(
            chat,
            content,
            kind=kind,
            method=method,
            p=p,
            thread_id=thread,
            reply_to=reply_to,
            reply_markup=markup,
        )
        return copy.deepcopy(sm.raw)

    async def api_sendPhoto(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "photo", "photo", "sendPhoto")

    async def api_sendDocument(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "document", "document", "sendDocument")

    async def api_sendVoice(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "voice", "voice", "sendVoice")

    async def api_sendSticker(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "sticker", "sticker", "sendSticker")

    async def api_sendVideo(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "video", "video", "sendVideo")

    async def api_sendAudio(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "audio", "audio", "sendAudio")

    async def api_sendAnimation(self, p: _Params) -> dict[str, Any]:
        return await self._api_send_media(p, "animation", "animation", "sendAnimation")

    async def api_sendLocation(self, p: _Params) -> dict[str, Any]:
        chat, thread, markup, reply_to = self._prepare_send(p)
        lat, lon = p.float("latitude", 999), p.float("longitude", 999)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ApiError.bad("wrong latitude or longitude specified")
        sm = self._deliver(
            chat,
            {"location": {"latitude": lat, "longitude": lon}},
            kind="location",
            method="sendLocation",
            p=p,
            thread_id=thread,
            reply_to=reply_to,
            reply_markup=markup,
        )
        return copy.deepcopy(sm.raw)

    async def api_sendMediaGroup(self, p: _Params) -> list[dict[str, Any]]:
        chat = self._chat(p)
        self._check_can_send(chat)
        thread = self._thread(chat, p)
        reply_to = self._reply_to(chat, p)
        media = p.json("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError.bad("wrong number of media in the album: must be 2-10 items")
        kinds = [m.get("type") if isinstance(m, dict) else None for m in media]
        if any(k not in ("photo", "video", "document", "audio") for k in kinds):
            raise ApiError.bad("can't parse InputMedia: unsupported media type")
        if ("document" in kinds or "audio" in kinds) and len(set(kinds)) > 1:
            raise ApiError.bad("MEDIA_GROUP_INVALID")
        group_id = str(secrets.randbits(60))
        prepared = []
        for m in media:
            ref = m.get("media")
            if not isinstance(ref, str) or not ref:
                raise ApiError.bad("there is no media in the request")
            f = self._file_ref(ref, p, m["type"])
            sub = _Params(
                {
                    "caption": m.get("caption"),
                    "parse_mode": m.get("parse_mode"),
                    "caption_entities": m.get("caption_entities"),
                },
                {},
            )
            cap, ents = self._caption(sub)
            prepared.append((m["type"], f, cap, ents, m.get("parse_mode")))
        out = []
        for kind, f, cap, ents, _pm in prepared:
            content = self._media_content(f)
            if cap:
                content["caption"] = cap
                if ents:
                    content["caption_entities"] = ents
            sm = self._deliver(
                chat,
                content,
                kind=kind,
                method="sendMediaGroup",
                p=None,
                thread_id=thread,
                reply_to=reply_to,
                extra={"media_group_id": group_id},
            )
            out.append(copy.deepcopy(sm.raw))
        return out

    async def api_getFile(self, p: _Params) -> dict[str, Any]:
        fid = p.str("file_id")
        if not fid:
            raise ApiError.bad("file_id is empty")
        f = self._files.get(fid)
        if f is None:
            raise ApiError.bad("invalid file_id")
        if len(f.content) > 20 * 1024 * 1024:
            raise ApiError.bad("file is too big")
        return f.to_file_dict()

    def _source(self, p: _Params, missing: str) -> tuple[SandboxChat, _Record]:
        src_chat = self._chat(p, "from_chat_id")
        mid = p.int("message_id")
        rec = self._records[src_chat.id].get(mid) if mid is not None else None
        if rec is None or rec.deleted:
            raise ApiError.bad(missing)
        return src_chat, rec

    _COPYABLE = (
        "text",
        "entities",
        "photo",
        "document",
        "voice",
        "sticker",
        "video",
        "audio",
        "animation",
        "location",
        "caption",
        "caption_entities",
    )

    async def api_copyMessage(self, p: _Params) -> dict[str, Any]:
        _src_chat, rec = self._source(p, "message to copy not found")
        chat, thread, markup, reply_to = self._prepare_send(p)
        content = {k: copy.deepcopy(v) for k, v in rec.raw.items() if k in self._COPYABLE}
        if not content:
            raise ApiError.bad("message can't be copied")
        if "caption" in p.raw and "text" not in content:
            cap, ents = self._caption(p)
            content.pop("caption", None)
            content.pop("caption_entities", None)
            if cap:
                content["caption"] = cap
                if ents:
                    content["caption_entities"] = ents
        kind = _kind_of(content)
        sm = self._deliver(
            chat,
            content,
            kind=kind,
            method="copyMessage",
            p=p,
            thread_id=thread,
            reply_to=reply_to,
            reply_markup=markup,
        )
        return {"message_id": sm.message_id}

    async def api_forwardMessage(self, p: _Params) -> dict[str, Any]:
        src_chat, rec = self._source(p, "message to forward not found")
        chat = self._chat(p)
        self._check_can_send(chat)
        thread = self._thread(chat, p)
        content = {k: copy.deepcopy(v) for k, v in rec.raw.items() if k in self._COPYABLE}
        if not content:
            raise ApiError.bad("message can't be forwarded")
        sender = rec.raw.get("from") or self.bot_user
        origin: dict[str, Any] = {"type": "user", "sender_user": sender, "date": rec.raw["date"]}
        kind = _kind_of(content)
        sm = self._deliver(
            chat,
            content,
            kind=kind,
            method="forwardMessage",
            p=p,
            thread_id=thread,
            extra={
                "forward_origin": origin,
                "forward_from": sender,
                "forward_date": rec.raw["date"],
            },
        )
        del src_chat
        return copy.deepcopy(sm.raw)
