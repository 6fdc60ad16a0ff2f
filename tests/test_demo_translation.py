"""The terminal demo (`python -m bot demo`) never pretends to translate: without a provider it
says at the start, plainly, that messages pass as written (issue 15, item 9)."""

from __future__ import annotations

import io

from bot.core.config import load_settings
from bot.demo import run_demo


async def test_the_demo_says_plainly_that_translation_is_off():
    settings = load_settings(
        environ={"TELEGRAM_BOT_TOKEN": "123456:demo-token-for-the-test"}, env_file=None
    )
    assert settings.translate_provider is None
    out = io.StringIO()
    assert await run_demo(settings, io.StringIO(""), out) == 0
    assert (
        "Machine translation is off: messages between residents and staff are passed on as"
        " written" in out.getvalue()
    )
