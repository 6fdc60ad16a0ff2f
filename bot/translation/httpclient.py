"""What the three provider clients share: one httpx.AsyncClient each (pooled keep-alive
connections, one timeout for connecting, writing and reading) and one mapping from what can go
wrong on the wire to a typed Failure. No response body is ever logged or put into an error: it
may hold the text of a message."""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.translation.port import Failure, TranslationError

# Status codes by what they mean for us; the rest of 4xx is a refusal, the rest of 5xx an outage.
QUOTA_STATUSES = frozenset({402, 456})  # 456: DeepL's "quota exceeded"


def client(base_url: str, timeout: float, headers: dict[str, str] | None = None):
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": "thinka-bot", **(headers or {})},
        # A handful of messages at a time at most: the relay sends one after the other.
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
    )


async def call(
    http: httpx.AsyncClient, method: str, path: str, *, json_body: Any = None, params=None
) -> Any:
    """The JSON answer to one request, or a TranslationError saying why not."""
    try:
        response = await http.request(method, path, json=json_body, params=params)
    except httpx.TimeoutException:
        raise TranslationError(Failure.TIMEOUT) from None
    except httpx.TransportError:
        raise TranslationError(Failure.UNAVAILABLE) from None
    status = response.status_code
    if status == 429:
        if _out_of_quota(response):
            raise TranslationError(Failure.QUOTA, status)
        raise TranslationError(Failure.RATE_LIMITED, status, retry_after(response))
    if status in QUOTA_STATUSES:
        raise TranslationError(Failure.QUOTA, status)
    if 400 <= status < 500:
        raise TranslationError(Failure.REFUSED, status)
    if status >= 500:
        raise TranslationError(Failure.UNAVAILABLE, status, retry_after(response))
    if status != 200:
        raise TranslationError(Failure.GARBAGE, status)
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise TranslationError(Failure.GARBAGE, status) from None


def _out_of_quota(response: httpx.Response) -> bool:
    """OpenAI answers an exhausted account with 429 too, told apart by its error code."""
    try:
        error = response.json().get("error")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False
    if not isinstance(error, dict):
        return False
    return "insufficient_quota" in (error.get("code"), error.get("type"))


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds or as an HTTP date (RFC 9110), None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def strings(value: Any, count: int) -> list[str]:
    """`value` must be a list of `count` strings: anything else is not what the API documents."""
    if not isinstance(value, list) or len(value) != count:
        raise TranslationError(Failure.GARBAGE)
    if not all(isinstance(item, str) for item in value):
        raise TranslationError(Failure.GARBAGE)
    return value


def lines(text: str) -> tuple[list[str], list[int]]:
    """The lines worth sending and where they stand: providers collapse or move line breaks
    (LibreTranslate's HTML mode joins everything into one line), so each line goes on its own."""
    all_lines = text.split("\n")
    wanted = [number for number, line in enumerate(all_lines) if line.strip()]
    return all_lines, wanted


def join(all_lines: list[str], wanted: list[int], translated: list[str]) -> str:
    result = list(all_lines)
    for number, line in zip(wanted, translated, strict=True):
        result[number] = line.strip()
    return "\n".join(result)
