"""The provider THINKA_TRANSLATE names, built from the settings (validated in bot/core/config.py),
and what the privacy notice says about it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.config import Settings
from bot.translation.deepl import DeepL
from bot.translation.libretranslate import LibreTranslate
from bot.translation.openai_chat import OpenAIChat
from bot.translation.port import MachineTranslator

# The privacy notice names the provider, so agreeing to it is agreeing to that provider: each
# has a number of its own in the consent version (bot/residents/service.py), and switching
# provider asks everyone again.
NOTICE_NUMBERS = {"libretranslate": 1, "deepl": 2, "openai": 3}


@dataclass(frozen=True)
class ProviderInfo:
    """Who gets the text: for the privacy notice, the docs and the start-up log."""

    kind: str  # libretranslate, deepl, openai
    name: str
    host: str
    model: str | None = None

    @property
    def notice_number(self) -> int:
        return NOTICE_NUMBERS[self.kind]


def build(settings: Settings) -> tuple[MachineTranslator, ProviderInfo] | None:
    """The configured provider, or None when translation is off."""
    kind, url = settings.translate_provider, settings.translate_url
    if kind is None or url is None:
        return None
    host = urlsplit(url).hostname or url
    timeout = settings.translate_timeout
    if kind == "libretranslate":
        return LibreTranslate(url, settings.translate_key, timeout), ProviderInfo(
            kind, "LibreTranslate", host
        )
    if kind == "deepl":
        assert settings.translate_key is not None  # config.py requires it
        return DeepL(url, settings.translate_key, timeout), ProviderInfo(kind, "DeepL", host)
    assert settings.translate_model is not None  # config.py requires it
    return (
        OpenAIChat(url, settings.translate_key, settings.translate_model, timeout),
        ProviderInfo(kind, "OpenAI-compatible", host, settings.translate_model),
    )
