"""Text formatting the way the Bot API does it: HTML / MarkdownV2 / Markdown -> (text, entities).

Offsets and lengths of entities are UTF-16 code units, like Telegram's. Errors carry Telegram's
wording ("can't parse entities: ...") so a bad ``parse_mode`` text fails here as it would live.
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["EntityParseError", "parse_text", "utf16_len"]


class EntityParseError(ValueError):
    """Raised with the text that follows ``Bad Request: can't parse entities: ``."""


def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def _byte_offset(src: str, i: int) -> int:
    return len(src[:i].encode("utf-8"))


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTR_RE = re.compile(r"""([a-zA-Z_][\w-]*)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos = 0  # UTF-16 position in output
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "<":
            off = _byte_offset(src, i)
            j = src.find(">", i)
            if j == -1:
                raise EntityParseError(f"Unclosed start tag at byte offset {off}")
            inner = src[i + 1 : j]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {off}")
                top = stack.pop()
                if name and name != top["tag"]:
                    raise EntityParseError(
                        f'Unmatched end tag at byte offset {off}, expected "</{top["tag"]}>", '
                        f'found "</{name}>"'
                    )
                length = pos - top["start"]
                if top.get("skip") or length <= 0:
                    pass
                else:
                    ent: dict[str, Any] = {
                        "offset": top["start"],
                        "length": length,
                        "type": top["type"],
                    }
                    ent.update(top.get("extra", {}))
                    entities.append(ent)
            else:
                m = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", inner)
                name = m.group(0).lower() if m else inner.split(" ")[0]
                if name not in _HTML_TAGS:
                    raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {off}')
                attrs = {}
                for am in _ATTR_RE.finditer(inner[len(name) :]):
                    v = am.group(2) or ""
                    if v[:1] in "\"'":
                        v = v[1:-1]
                    attrs[am.group(1).lower()] = html.unescape(v)
                frame: dict[str, Any] = {"tag": name, "type": _HTML_TAGS[name], "start": pos}
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise EntityParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {off}'
                    )
                if name == "a":
                    href = attrs.get("href", "")
                    m2 = re.fullmatch(r"tg://user\?id=(\d+)", href)
                    if m2:
                        frame["type"] = "text_mention"
                        frame["extra"] = {
                            "user": {"id": int(m2.group(1)), "is_bot": False, "first_name": ""}
                        }
                    elif not href:
                        frame["skip"] = True
                    else:
                        frame["extra"] = {"url": href}
                if name == "tg-emoji":
                    if "emoji-id" not in attrs:
                        raise EntityParseError(
                            f"Custom emoji entity must have emoji-id at byte offset {off}"
                        )
                    frame["extra"] = {"custom_emoji_id": attrs["emoji-id"]}
                if name == "blockquote" and "expandable" in attrs:
                    frame["type"] = "expandable_blockquote"
                if name == "code" and stack and stack[-1]["tag"] == "pre":
                    lang = attrs.get("class", "")
                    if lang.startswith("language-"):
                        stack[-1].setdefault("extra", {})["language"] = lang[len("language-") :]
                        frame["skip"] = True
                stack.append(frame)
            i = j + 1
            continue
        if c == "&":
            m = re.match(r"&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);", src[i:])
            if m:
                ref = m.group(1)
                ch: str | None
                if ref.startswith(("#x", "#X")):
                    ch = chr(int(ref[2:], 16))
                elif ref.startswith("#"):
                    ch = chr(int(ref[1:]))
                else:
                    ch = _NAMED.get(ref)
                if ch is not None:
                    out.append(ch)
                    pos += utf16_len(ch)
                    i += len(m.group(0))
                    continue
        out.append(c)
        pos += utf16_len(c)
        i += 1
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"'
        )
    return "".join(out), entities


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
}


def _parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos = 0
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)

    def emit(s: str) -> None:
        nonlocal pos
        out.append(s)
        pos += utf16_len(s)

    def toggle(kind: str, width: int) -> None:
        nonlocal i
        if stack and stack[-1]["type"] == kind:
            top = stack.pop()
            if pos > top["start"]:
                ent = {"offset": top["start"], "length": pos - top["start"], "type": kind}
                if top.get("language"):
                    ent["language"] = top["language"]
                entities.append(ent)
        elif any(f["type"] == kind for f in stack):
            top = stack[-1]
            raise EntityParseError(
                f"Can't find end of {_MDV2_NAMES.get(top['type'], top['type'])} entity at byte "
                f"offset {top['byte']}"
            )
        else:
            stack.append({"type": kind, "start": pos, "byte": _byte_offset(src, i)})
        i += width

    while i < n:
        c = src[i]
        in_code = bool(stack) and stack[-1]["type"] in ("code", "pre")
        if c == "\\":
            if i + 1 < n and 1 <= ord(src[i + 1]) <= 126:
                emit(src[i + 1])
                i += 2
                continue
            raise EntityParseError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if in_code:
            kind = stack[-1]["type"]
            if kind == "pre" and src.startswith("```", i):
                toggle("pre", 3)
            elif kind == "code" and c == "`":
                toggle("code", 1)
            else:
                emit(c)
                i += 1
            continue
        if src.startswith("```", i):
            frame_start = pos
            i += 3
            m = re.match(r"([^\s`]*)\n", src[i:])
            lang = None
            if m:
                lang = m.group(1) or None
                i += len(m.group(0))
            stack.append({"type": "pre", "start": frame_start, "byte": _byte_offset(src, i - 3)})
            if lang:
                stack[-1]["language"] = lang
            continue
        if c == "`":
            toggle("code", 1)
        elif src.startswith("__", i):
            toggle("underline", 2)
        elif c == "_":
            toggle("italic", 1)
        elif c == "*":
            toggle("bold", 1)
        elif c == "~":
            toggle("strikethrough", 1)
        elif src.startswith("||", i):
            toggle("spoiler", 2)
        elif c == "[":
            stack.append({"type": "text_link", "start": pos, "byte": _byte_offset(src, i)})
            i += 1
        elif c == "]" and stack and stack[-1]["type"] == "text_link":
            top = stack.pop()
            if not src.startswith("(", i + 1):
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {top['byte']}"
                )
            j = i + 2
            url: list[str] = []
            while j < n and src[j] != ")":
                if src[j] == "\\" and j + 1 < n:
                    j += 1
                url.append(src[j])
                j += 1
            if j >= n:
                raise EntityParseError(
                    f"Can't find end of a URL at byte offset {_byte_offset(src, i + 1)}"
                )
            if pos > top["start"]:
                entities.append(
                    {
                        "offset": top["start"],
                        "length": pos - top["start"],
                        "type": "text_link",
                        "url": "".join(url),
                    }
                )
            i = j + 1
        elif c == ">" and (i == 0 or src[i - 1] == "\n"):
            end = src.find("\n", i)
            end = n if end == -1 else end
            start = pos
            i += 1
            # parse the rest of the line normally; record a blockquote over it
            line_text, line_ents = _parse_markdown_v2(src[i:end])
            for e in line_ents:
                e["offset"] += start
                entities.append(e)
            emit(line_text)
            if pos > start:
                entities.append({"offset": start, "length": pos - start, "type": "blockquote"})
            i = end
        elif c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            emit(c)
            i += 1
        continue
    if stack:
        top = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES.get(top['type'], top['type'])} entity at byte offset "
            f"{top['byte']}"
        )
    # "pre" language is attached when closing; fix up
    return "".join(out), entities


def _parse_markdown(src: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos = 0
    entities: list[dict[str, Any]] = []
    i, n = 0, len(src)
    marks = {"*": "bold", "_": "italic", "`": "code"}
    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "*_`[":
            out.append(src[i + 1])
            pos += 1
            i += 2
            continue
        if src.startswith("```", i) or c in marks or c == "[":
            off = _byte_offset(src, i)
            if src.startswith("```", i):
                end_marker, kind, i2 = "```", "pre", i + 3
            elif c == "[":
                end_marker, kind, i2 = "]", "text_link", i + 1
            else:
                end_marker, kind, i2 = c, marks[c], i + 1
            j = src.find(end_marker, i2)
            if j == -1:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {off}"
                )
            inner = src[i2:j]
            nxt = j + len(end_marker)
            extra: dict[str, Any] = {}
            if kind == "text_link":
                if not src.startswith("(", nxt) or src.find(")", nxt) == -1:
                    raise EntityParseError(
                        f"Can't find end of the entity starting at byte offset {off}"
                    )
                k = src.find(")", nxt)
                extra["url"] = src[nxt + 1 : k]
                nxt = k + 1
            if inner:
                entities.append({"offset": pos, "length": utf16_len(inner), "type": kind, **extra})
            out.append(inner)
            pos += utf16_len(inner)
            i = nxt
            continue
        out.append(c)
        pos += utf16_len(c)
        i += 1
    return "".join(out), entities


def _strip(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    shift = utf16_len(text[:lead])
    total = utf16_len(stripped)
    result = []
    for e in entities:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, total)
        if end > start:
            result.append({**e, "offset": start, "length": end - start})
    result.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, result


def parse_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Return (plain text, entities) after parse_mode processing and stripping.

    Raises :class:`EntityParseError` on malformed markup and ``ValueError`` on an unknown
    parse mode (``Bad Request: unsupported parse_mode``).
    """
    mode = (parse_mode or "").strip()
    if not mode or entities:
        plain, ents = text, list(entities or [])
    elif mode.lower() == "html":
        plain, ents = _parse_html(text)
    elif mode.lower() == "markdownv2":
        plain, ents = _parse_markdown_v2(text)
    elif mode.lower() == "markdown":
        plain, ents = _parse_markdown(text)
    else:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    return _strip(plain, ents)
