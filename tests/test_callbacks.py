"""The callback-data registry: one prefix per feature, none the start of another, 64 bytes."""

import pytest

from bot.core import callbacks


def test_prefixes_are_unique_and_none_starts_another():
    prefixes = [c.prefix for c in callbacks.REGISTRY]
    assert len(set(prefixes)) == len(prefixes)
    for a in prefixes:
        for b in prefixes:
            assert a == b or not b.startswith(a), (a, b)


def test_data_is_built_and_parsed_back():
    data = callbacks.CASE("take", 12)
    assert data == "case:take:12"
    assert callbacks.CASE.parts(data) == ["take", "12"]
    assert callbacks.QUEUE.parts(data) is None
    assert callbacks.CASE.parts(None) is None


def test_over_64_bytes_is_refused_when_built():
    callbacks.CASE("t", "x" * (64 - len("case:t:")))  # exactly 64 bytes: fine
    with pytest.raises(ValueError):
        callbacks.CASE("t", "x" * (65 - len("case:t:")))
    with pytest.raises(ValueError):  # bytes, not characters: Arabic takes two each
        callbacks.CASE("t", "ب" * 29)


def test_every_registered_handler_pattern_uses_a_registered_prefix():
    """Every button route in the composition root belongs to exactly one feature's prefix."""
    from telegram.ext import CallbackQueryHandler

    from bot.app import build_application
    from bot.core.config import Settings

    settings = Settings(token="1:x", staff_chat_id=-1001)
    application = build_application(settings)
    prefixes = [c.prefix for c in callbacks.REGISTRY]
    patterns = [
        h.pattern.pattern
        for group in application.handlers.values()
        for h in group
        if isinstance(h, CallbackQueryHandler) and h.pattern is not None
    ]
    assert patterns
    for pattern in patterns:
        body = pattern.lstrip("^(")
        assert body == "menu$" or any(body.startswith(p) for p in prefixes), pattern


def test_every_staff_button_passes_the_consent_gate():
    """Found when the courier's "send again" (callbacks.OUTGOING) met the consent gate: an
    admin who pressed it got the privacy notice instead. Every staff tool's buttons must pass,
    or staff, who give no resident's consent, cannot use them."""
    from handlers.gates.gate import STAFF_CALLBACKS

    staff = {data.prefix for data in callbacks.REGISTRY if data.purpose.startswith("staff:")}
    assert {callbacks.OUTGOING.prefix, callbacks.LETTERS.prefix, callbacks.CASE.prefix} <= staff
    assert staff == set(STAFF_CALLBACKS)
