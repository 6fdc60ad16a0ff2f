"""The port every translation provider implements, and the typed failure it raises.

A provider only translates and detects; protecting numbers and terms, the cache, the timeout
for the whole step, storing and presenting are the service's, so a new provider is one small
class. Language codes are ISO 639-1 ("ar", "de"), whatever the provider calls them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class Failure(enum.Enum):
    """Why a translation failed, in the words staff are shown (presentation.py)."""

    TIMEOUT = "timeout"  # no answer within THINKA_TRANSLATE_TIMEOUT
    UNAVAILABLE = "unavailable"  # connection refused or reset, 5xx
    RATE_LIMITED = "rate_limited"  # 429: too many requests for now
    QUOTA = "quota"  # DeepL 456, an exhausted account: not before someone acts
    REFUSED = "refused"  # 400/401/403/404: wrong key, unknown model, language not offered
    GARBAGE = "garbage"  # an answer that is not what the API documents, or empty


class TranslationError(Exception):
    """A provider could not translate. Carries no text: it may end up in a log line."""

    def __init__(
        self, failure: Failure, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(failure.value if status is None else f"{failure.value} (HTTP {status})")
        self.failure = failure
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class Translation:
    text: str
    # The language of the original: the one asked for, or the one the provider detected.
    source: str
    target: str


@dataclass(frozen=True)
class Detection:
    language: str
    confidence: float  # 0..1


class MachineTranslator(Protocol):
    """What the service needs from a provider. `source=None` asks the provider to detect."""

    name: str  # "LibreTranslate", "DeepL", "OpenAI-compatible"
    # True: the answer keeps XML entities as sent (DeepL, a model); False: the provider
    # unescapes (LibreTranslate). protect.restore needs to know.
    escaped: bool

    async def translate(self, text: str, source: str | None, target: str) -> Translation: ...

    async def detect(self, text: str) -> Detection | None: ...

    async def close(self) -> None: ...
