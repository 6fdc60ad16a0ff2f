"""Faithful fakes of the three translation APIs the bot can use (bot/translation), as real
aiohttp servers on loopback, for tests, bench/ and the demo:

- FakeLibreTranslate: POST /translate, POST /detect, GET /languages;
- FakeDeepL: POST /v2/translate, GET /v2/usage, with the character quota (456);
- FakeOpenAIChat: POST /v1/chat/completions, as Ollama, vLLM or LiteLLM answer it.

Requests and answers have the documented shapes, including the errors (400, 401/403, 404, 429,
456, 500), and every request is recorded (`requests`) so a test can check what was sent. A
fault can be queued (`fail_next`), answers slowed (`delay`), held forever (`hang`, for
timeouts), made unreadable (`garbage`) or careless with markup (`mangle`).

They do not translate. A `phrasebook` maps known sentences (source, target, plain text) to real
translations, keeping the <x> elements around the same words as a real engine keeps tags; any
other text comes back as "[ar→de] …", visibly a stand-in, never passed off as a translation.
Language detection goes by the letters, like a cheap real detector.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from dataclasses import dataclass, field
from html import escape, unescape
from typing import Any

from aiohttp import web
from babel import Locale

ELEMENT = re.compile(r"<x\s+i=\"(\d+)\"[^>]*?(?:/>|>(.*?)</x>)", re.DOTALL)
LOADED = ("de", "en", "ar", "ru", "uk")
BODY = web.RequestKey("body", object)
GERMAN_HINTS = re.compile(r"[äöüß]|\b(ich|und|der|die|das|ist|nicht|bitte|Sie|habe|mit)\b", re.I)


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class Fault:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def detect(text: str) -> str:
    """The language by its letters: what a small real detector gets right on our messages."""
    plain = ELEMENT.sub(" ", text)
    arabic = sum(1 for c in plain if "\u0600" <= c <= "\u06ff")
    cyrillic = sum(1 for c in plain if "\u0400" <= c <= "\u04ff")
    latin = sum(1 for c in plain if c.isascii() and c.isalpha())
    if arabic >= max(cyrillic, latin) and arabic:
        return "ar"
    if cyrillic >= latin and cyrillic:
        return "uk" if set(plain) & set("іїєґІЇЄҐ") else "ru"
    return "de" if GERMAN_HINTS.search(plain) else "en"


class _FakeServer:
    """What the three fakes share: the server, faults, delays and the recorded requests."""

    def __init__(self, *, delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.delay = delay
        self.hang = False
        # "html": a 200 with an HTML error page; "shape": JSON, but not the documented shape.
        self.garbage: str | None = None
        # "strip": <x> tags dropped, their words kept; "drop": whole elements dropped.
        self.mangle: str | None = None
        self.phrasebook: dict[tuple[str, str, str], str] = {}
        self.requests: list[Recorded] = []
        self.host = host
        self.port = 0
        self._faults: deque[Fault] = deque()
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self):
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- faults -----------------------------------------------------------------------------
    def fail_next(self, status: int, times: int = 1, *, retry_after: float | None = None) -> None:
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        for _ in range(times):
            self._faults.append(Fault(status, self.error_body(status), headers))

    def error_body(self, status: int) -> Any:
        raise NotImplementedError

    def translations(self) -> list[Recorded]:
        """The recorded requests that asked for a translation (not detection, not usage)."""
        raise NotImplementedError

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        try:
            body: Any = await request.json() if request.can_read_body else None
        except ValueError:
            body = (await request.post()) if request.can_read_body else None
            body = dict(body) if body is not None else None
        self.requests.append(Recorded(request.method, request.path, body, dict(request.headers)))
        if self.hang:
            await self._released.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._faults:
            fault = self._faults.popleft()
            return web.json_response(fault.body, status=fault.status, headers=fault.headers)
        if self.garbage == "html":
            return web.Response(
                text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
            )
        if self.garbage == "shape":
            return web.json_response({"unexpected": True})
        request[BODY] = body
        return await handler(request)

    # -- the stand-in "engine" --------------------------------------------------------------
    def translate_markup(self, markup: str, source: str, target: str, *, escaped: bool) -> str:
        """Translate one line of markup as an engine would: the words, not the <x> elements."""
        elements = {m[1]: m[0] for m in ELEMENT.finditer(markup)}
        plain = unescape(ELEMENT.sub(lambda m: m[2] or "", markup))
        known = self.phrasebook.get((source, target, plain.strip()))
        if known is not None:
            out = escape(known, quote=False) if escaped else known
            for number, element in elements.items():
                inner = unescape(ELEMENT.match(element)[2] or "")  # type: ignore[index]
                piece = escape(inner, quote=False) if escaped else inner
                if piece in out:
                    out = out.replace(piece, f'<x i="{number}" translate="no">{piece}</x>', 1)
                else:
                    out += " " + element
        else:
            out = f"[{source}→{target}] {markup if escaped else unescape(markup)}"
            if not escaped:
                # LibreTranslate unescapes the whole answer but keeps the elements as tags.
                for element in elements.values():
                    out = out.replace(unescape(element), element)
        if self.mangle == "strip":
            out = ELEMENT.sub(lambda m: m[2] or "", out)
        elif self.mangle == "drop":
            out = ELEMENT.sub("", out)
        return out


class FakeLibreTranslate(_FakeServer):
    """LibreTranslate as it answers with LT_LOAD_ONLY=de,en,ar,ru,uk (and an API key database
    when `api_key` is given)."""

    def __init__(self, *, api_key: str | None = None, loaded=LOADED, **kwargs) -> None:
        super().__init__(**kwargs)
        self.api_key = api_key
        self.loaded = tuple(loaded)

    @property
    def url(self) -> str:
        return self.root

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/translate", self._translate)
        app.router.add_post("/detect", self._detect)
        app.router.add_get("/languages", self._languages)

    def error_body(self, status: int) -> Any:
        return {
            400: {"error": "Invalid request: missing q parameter"},
            403: {"error": "Too many request limits violations"},
            429: {"error": "Slowdown: 10 per 1 minute"},
            500: {"error": "Cannot translate text: model failure"},
        }.get(status, {"error": "Error"})

    def translations(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/translate"]

    def _refused(self, body: dict) -> web.Response | None:
        if self.api_key is not None and body.get("api_key") != self.api_key:
            return web.json_response({"error": "Invalid API key"}, status=403)
        return None

    async def _translate(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        if (refused := self._refused(body)) is not None:
            return refused
        for name in ("q", "source", "target"):
            if not body.get(name):
                return web.json_response(
                    {"error": f"Invalid request: missing {name} parameter"}, status=400
                )
        q, source, target = body["q"], body["source"], body["target"]
        text_format = body.get("format") or "text"
        if text_format not in ("text", "html"):
            return web.json_response(
                {"error": f"{text_format} format is not supported"}, status=400
            )
        texts = q if isinstance(q, list) else [q]
        sources = [detect(text) if source == "auto" else source for text in texts]
        for language in (*sources, target):
            if language not in self.loaded:
                return web.json_response({"error": f"{language} is not supported"}, status=400)
        for language in sources:
            if language == target:
                return web.json_response(
                    {"error": f"{target} is not available as a target language from {language}"},
                    status=400,
                )
        # In HTML mode LibreTranslate collapses whitespace and unescapes its answer.
        out = [
            self.translate_markup(" ".join(text.split()), lang, target, escaped=False)
            if text_format == "html"
            else f"[{lang}→{target}] {text}"
            for text, lang in zip(texts, sources, strict=True)
        ]
        answer: dict[str, Any] = {"translatedText": out if isinstance(q, list) else out[0]}
        if source == "auto":
            found = [{"confidence": 90.0, "language": lang} for lang in sources]
            answer["detectedLanguage"] = found if isinstance(q, list) else found[0]
        return web.json_response(answer)

    async def _detect(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        if (refused := self._refused(body)) is not None:
            return refused
        if not body.get("q"):
            return web.json_response({"error": "Invalid request: missing q parameter"}, status=400)
        return web.json_response([{"confidence": 90.0, "language": detect(body["q"])}])

    async def _languages(self, request: web.Request) -> web.Response:
        english = Locale("en").languages
        return web.json_response(
            [
                {
                    "code": code,
                    "name": english.get(code, code),
                    "targets": [t for t in self.loaded if t != code],
                }
                for code in self.loaded
            ]
        )


DEEPL_SOURCES = frozenset({"AR", "BG", "CS", "DA", "DE", "EL", "EN", "ES", "FR", "RU", "TR", "UK"})
DEEPL_TARGETS = frozenset(
    {"AR", "BG", "CS", "DA", "DE", "EL", "EN-GB", "EN-US", "ES", "FR", "RU", "TR", "UK"}
)


class FakeDeepL(_FakeServer):
    """The DeepL API v2 (free or pro: the same API), with the account's character quota."""

    def __init__(self, *, api_key: str = "fake-key:fx", character_limit: int = 500_000, **kw):
        super().__init__(**kw)
        self.api_key = api_key
        self.character_limit = character_limit
        self.character_count = 0

    @property
    def url(self) -> str:
        return self.root

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/translate", self._translate)
        app.router.add_route("*", "/v2/usage", self._usage)

    def error_body(self, status: int) -> Any:
        return {
            400: {"message": "Bad request. Reason: Value for 'target_lang' not supported."},
            403: {"message": "Authorization failure, check auth_key"},
            429: {"message": "Too many requests"},
            456: {"message": "Quota Exceeded"},
            500: {"message": "Internal server error"},
            503: {"message": "Service unavailable"},
        }.get(status, {"message": "Error"})

    def translations(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v2/translate"]

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"DeepL-Auth-Key {self.api_key}":
            return web.json_response(self.error_body(403), status=403)
        return None

    async def _translate(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = request[BODY] or {}
        texts = body.get("text")
        if isinstance(texts, str):
            texts = [texts]
        if not texts or not all(isinstance(t, str) for t in texts):
            return web.json_response({"message": "Parameter 'text' not specified."}, status=400)
        target = str(body.get("target_lang") or "").upper()
        if target == "EN":
            return web.json_response(
                {"message": 'target_lang="EN" is deprecated, please use "EN-GB" or "EN-US".'},
                status=400,
            )
        if target not in DEEPL_TARGETS:
            return web.json_response(
                {"message": "Value for 'target_lang' not supported."}, status=400
            )
        source = body.get("source_lang")
        if source is not None and str(source).upper() not in DEEPL_SOURCES:
            return web.json_response(
                {"message": "Value for 'source_lang' not supported."}, status=400
            )
        if body.get("tag_handling") not in (None, "xml", "html"):
            return web.json_response(
                {"message": "Value for 'tag_handling' not supported."}, status=400
            )
        characters = sum(len(t) for t in texts)
        if self.character_count + characters > self.character_limit:
            return web.json_response({"message": "Quota Exceeded"}, status=456)
        self.character_count += characters
        out = []
        for text in texts:
            language = str(source).upper() if source else detect(text).upper()
            target_base = target.split("-")[0].lower()
            translated = (
                text
                if language.lower() == target_base
                else self.translate_markup(
                    text, language.lower(), target_base, escaped=body.get("tag_handling") == "xml"
                )
            )
            out.append({"detected_source_language": language, "text": translated})
        return web.json_response({"translations": out})

    async def _usage(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        return web.json_response(
            {"character_count": self.character_count, "character_limit": self.character_limit}
        )


class FakeOpenAIChat(_FakeServer):
    """An OpenAI-compatible chat endpoint (as Ollama serves it under /v1) with `models`
    pulled; it follows the bot's fixed prompts: detection and translation."""

    def __init__(self, *, api_key: str | None = None, models=("llama3.1:8b",), **kw) -> None:
        super().__init__(**kw)
        self.api_key = api_key
        self.models = tuple(models)
        self.finish_reason = "stop"
        english = Locale("en").languages
        self._codes = {english[code]: code for code in LOADED}

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)

    def error_body(self, status: int) -> Any:
        kinds = {
            400: ("invalid_request_error", "Invalid request"),
            401: ("invalid_request_error", "Incorrect API key provided"),
            404: ("api_error", "model not found, try pulling it first"),
            429: ("rate_limit_exceeded", "Rate limit reached, please try again later"),
            500: ("api_error", "The server had an error while processing your request"),
            503: ("api_error", "The server is overloaded"),
        }
        kind, message = kinds.get(status, ("api_error", "Error"))
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def fail_quota(self) -> None:
        """An account that has used up its credit: 429 with code insufficient_quota."""
        self._faults.append(
            Fault(
                429,
                {
                    "error": {
                        "message": "You exceeded your current quota",
                        "type": "insufficient_quota",
                        "param": None,
                        "code": "insufficient_quota",
                    }
                },
            )
        )

    def translations(self) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.body and "ISO 639-1" not in str(r.body.get("messages", [{}])[0])
        ]

    async def _chat(self, request: web.Request) -> web.Response:
        if self.api_key is not None and (
            request.headers.get("Authorization") != f"Bearer {self.api_key}"
        ):
            return web.json_response(self.error_body(401), status=401)
        body = request[BODY] or {}
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or "model" not in body:
            return web.json_response(self.error_body(400), status=400)
        if body["model"] not in self.models:
            return web.json_response(
                {
                    "error": {
                        "message": f'model "{body["model"]}" not found, try pulling it first',
                        "type": "api_error",
                        "param": None,
                        "code": None,
                    }
                },
                status=404,
            )
        system = next((m["content"] for m in messages if m.get("role") == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
        if "ISO 639-1" in system:
            content = detect(user)
        else:
            found = re.search(r"from (\w+) into (\w+)", system)
            if found is None:
                content = "I am not sure what you would like me to do."
            else:
                source = self._codes.get(found[1], found[1].lower())
                target = self._codes.get(found[2], found[2].lower())
                content = "\n".join(
                    self.translate_markup(line, source, target, escaped=True)
                    if line.strip()
                    else line
                    for line in user.split("\n")
                )
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": self.finish_reason,
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )
