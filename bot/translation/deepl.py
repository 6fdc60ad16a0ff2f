"""DeepL API v2: POST /v2/translate, free and pro endpoints (the key decides, bot/core/config.py).

Why httpx and not the official `deepl` package: that client is synchronous (requests), so in
this asyncio bot every call would need a thread, and it retries 429 and 5xx itself with
exponential backoff for up to minutes, while a message here must never wait longer than
THINKA_TRANSLATE_TIMEOUT: the relay delivers the original instead and the next message tries
again. The HTTP API is small and documented; httpx (already here with python-telegram-bot)
gives one pooled async connection and one timeout we control.

Documented request: JSON {"text": [...], "target_lang", "source_lang" (optional: detect),
"tag_handling": "xml", "ignore_tags": ["x"]}, header "Authorization: DeepL-Auth-Key KEY".
Answer: {"translations": [{"detected_source_language": "EN", "text": "…"}]}. Errors: 400, 403
(key or endpoint wrong), 404, 413, 429 (too many requests), 456 (quota exceeded), 500, 503.
"""

from __future__ import annotations

from bot.translation import httpclient as http
from bot.translation.port import Detection, Failure, Translation, TranslationError

# DeepL wants a variant for English as a target; British is what residents here learnt.
TARGETS = {"en": "EN-GB", "pt": "PT-PT", "zh": "ZH-HANS"}


class DeepL:
    name = "DeepL"
    escaped = True

    def __init__(self, url: str, key: str, timeout: float) -> None:
        self._http = http.client(url, timeout, {"Authorization": f"DeepL-Auth-Key {key}"})

    async def translate(self, text: str, source: str | None, target: str) -> Translation:
        all_lines, wanted = http.lines(text)
        if not wanted:
            return Translation(text, source or target, target)
        body: dict = {
            "text": [all_lines[number] for number in wanted],
            "target_lang": TARGETS.get(target, target.upper()),
            "tag_handling": "xml",
            "ignore_tags": ["x"],
        }
        if source is not None:
            body["source_lang"] = source.upper()
        data = await http.call(self._http, "POST", "/v2/translate", json_body=body)
        items = data.get("translations") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != len(wanted):
            raise TranslationError(Failure.GARBAGE)
        if not all(isinstance(item, dict) for item in items):
            raise TranslationError(Failure.GARBAGE)
        translated = http.strings([item.get("text") for item in items], len(wanted))
        detected = items[0].get("detected_source_language")
        if source is None and not isinstance(detected, str):
            raise TranslationError(Failure.GARBAGE)
        language = source or detected.split("-")[0].lower()
        return Translation(http.join(all_lines, wanted, translated), language, target)

    async def detect(self, text: str) -> Detection | None:
        # DeepL has no detection of its own: a translation with source_lang left out names the
        # language it found, which is how the service asks it (service.py).
        return None

    async def close(self) -> None:
        await self._http.aclose()
