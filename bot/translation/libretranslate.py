"""LibreTranslate (self-hosted Argos models): POST /translate, POST /detect, GET /languages.

Documented request: q (a string or a list of strings), source ("auto" to detect), target,
format ("text" or "html"), api_key (optional when self-hosted). Answer: {"translatedText": …}
with "detectedLanguage": {"language", "confidence"} (a list for a list of q) when source was
"auto"; errors {"error": "…"} with 400, 403 (banned or wrong key), 429 (slow down) and 500.
"""

from __future__ import annotations

from typing import Any

from bot.translation import httpclient as http
from bot.translation.port import Detection, Failure, Translation, TranslationError


class LibreTranslate:
    name = "LibreTranslate"
    escaped = False  # it runs html.unescape over its answer

    def __init__(self, url: str, key: str | None, timeout: float) -> None:
        self._http = http.client(url, timeout)
        self._key = key or ""

    async def translate(self, text: str, source: str | None, target: str) -> Translation:
        all_lines, wanted = http.lines(text)
        if not wanted:
            return Translation(text, source or target, target)
        data = await http.call(
            self._http,
            "POST",
            "/translate",
            json_body={
                "q": [all_lines[number] for number in wanted],
                "source": source or "auto",
                "target": target,
                # HTML, so that elements marked translate="no" are left alone (protect.py).
                "format": "html",
                "api_key": self._key,
            },
        )
        if not isinstance(data, dict):
            raise TranslationError(Failure.GARBAGE)
        translated = http.strings(data.get("translatedText"), len(wanted))
        detected = source or _detected(data.get("detectedLanguage"))
        return Translation(http.join(all_lines, wanted, translated), detected, target)

    async def detect(self, text: str) -> Detection | None:
        data = await http.call(
            self._http, "POST", "/detect", json_body={"q": text, "api_key": self._key}
        )
        if not isinstance(data, list):
            raise TranslationError(Failure.GARBAGE)
        if not data:
            return None
        best = data[0]
        if not isinstance(best, dict) or not isinstance(best.get("language"), str):
            raise TranslationError(Failure.GARBAGE)
        return Detection(best["language"], _confidence(best.get("confidence")))

    async def languages(self) -> dict[str, frozenset[str]]:
        """code -> the codes it can be translated into."""
        data = await http.call(self._http, "GET", "/languages")
        if not isinstance(data, list):
            raise TranslationError(Failure.GARBAGE)
        return {
            item["code"]: frozenset(item.get("targets") or ())
            for item in data
            if isinstance(item, dict) and isinstance(item.get("code"), str)
        }

    async def close(self) -> None:
        await self._http.aclose()


def _detected(value: Any) -> str:
    if isinstance(value, list):  # one per line; the first line speaks for the message
        value = value[0] if value else None
    if not isinstance(value, dict) or not isinstance(value.get("language"), str):
        raise TranslationError(Failure.GARBAGE)
    return value["language"]


def _confidence(value: Any) -> float:
    """LibreTranslate says 90.0 where its specification says 0.9; both mean the same."""
    if not isinstance(value, int | float):
        return 0.0
    return value / 100 if value > 1 else float(value)
