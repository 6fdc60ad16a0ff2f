"""The wait Telegram names in a 429, in seconds, whichever way python-telegram-bot reports it."""

from __future__ import annotations

from datetime import timedelta

from telegram.error import RetryAfter


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
