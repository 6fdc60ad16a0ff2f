"""Settings: defaults, validation, .env handling; every problem is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import BUNDLED_CONFIG, ConfigError, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_defaults_follow_the_design_contract():
    s = load_settings(environ={}, env_file=None)
    assert s.token is None
    assert s.api_base_url == "https://api.telegram.org/bot"
    assert s.api_file_url == "https://api.telegram.org/file/bot"
    assert s.db_path == Path("data/thinka.sqlite3")
    assert s.config_path == BUNDLED_CONFIG
    assert s.staff_chat_id is None and s.admin_ids == frozenset()
    assert s.timezone.key == "Europe/Berlin"
    assert s.broadcast_rate == 25 and s.retention_days == 180
    assert s.webhook_url is None and s.log_level == "INFO"
    assert s.ocr is True


def test_values_are_parsed():
    s = load_settings(
        environ={
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "THINKA_STAFF_CHAT_ID": "-1001234567890",
            "THINKA_ADMIN_IDS": " 11, 22 ,33,",
            "THINKA_TIMEZONE": "Asia/Damascus",
            "THINKA_BROADCAST_RATE": "12.5",
            "THINKA_WEBHOOK_URL": "https://bot.example.org/hook",
            "THINKA_WEBHOOK_SECRET": "s3cret_-",
            "THINKA_WEBHOOK_LISTEN": "127.0.0.1:9000",
            "THINKA_LOG_LEVEL": "debug",
            "THINKA_RETENTION_DAYS": "30",
            "THINKA_OCR": "Off",
        },
        env_file=None,
    )
    assert s.staff_chat_id == -1001234567890
    assert s.admin_ids == {11, 22, 33}
    assert s.timezone.key == "Asia/Damascus"
    assert s.broadcast_rate == 12.5
    assert s.webhook_listen == ("127.0.0.1", 9000)
    assert s.log_level == "DEBUG" and s.retention_days == 30
    assert s.ocr is False


def test_token_is_kept_out_of_repr():
    s = load_settings(environ={"TELEGRAM_BOT_TOKEN": TOKEN}, env_file=None)
    assert TOKEN not in repr(s)
    assert s.require_token() == TOKEN


def test_missing_token_is_refused_with_a_pointer_to_botfather():
    with pytest.raises(ConfigError, match="BotFather"):
        load_settings(environ={}, env_file=None).require_token()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "does not look like a bot token"),
        ("THINKA_STAFF_CHAT_ID", "staff", "whole number"),
        ("THINKA_ADMIN_IDS", "12,abc", "comma-separated"),
        ("THINKA_TIMEZONE", "Mars/Olympus", "not a known time zone"),
        ("THINKA_BROADCAST_RATE", "0", "positive number"),
        ("THINKA_BROADCAST_RATE", "nan", "positive number"),
        ("THINKA_RETENTION_DAYS", "-5", "positive whole number"),
        ("THINKA_LOG_LEVEL", "LOUD", "THINKA_LOG_LEVEL"),
        ("THINKA_WEBHOOK_LISTEN", "8443", "HOST:PORT"),
        ("THINKA_CONFIG", "/nonexistent/org.toml", "not a readable file"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org", r"http\(s\) URL"),
        ("THINKA_OCR", "maybe", "THINKA_OCR must be on or off"),
    ],
)
def test_bad_values_give_one_clear_line(name, value, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(environ={name: value}, env_file=None)
    assert "\n" not in str(info.value)


def test_webhook_needs_a_secret():
    with pytest.raises(ConfigError, match="THINKA_WEBHOOK_SECRET is required"):
        load_settings(environ={"THINKA_WEBHOOK_URL": "https://x.example/hook"}, env_file=None)


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        f'TELEGRAM_BOT_TOKEN="{TOKEN}"\n# a comment\nTHINKA_RETENTION_DAYS=90\nTHINKA_DB=x.db\n'
    )
    s = load_settings(environ={"THINKA_DB": "y.db"}, env_file=env)
    assert s.token == TOKEN and s.retention_days == 90 and s.db_path == Path("y.db")


# -- machine translation (bot/translation) ------------------------------------------------
def test_translation_is_off_by_default():
    s = load_settings(environ={}, env_file=None)
    assert s.translate_provider is None and s.translate_url is None
    assert s.translate_timeout == 5.0
    s = load_settings(environ={"THINKA_TRANSLATE": "off"}, env_file=None)
    assert s.translate_provider is None


def test_libretranslate_settings_are_parsed():
    s = load_settings(
        environ={
            "THINKA_TRANSLATE": "LibreTranslate",
            "THINKA_TRANSLATE_URL": "http://libretranslate:5000/",
            "THINKA_TRANSLATE_TIMEOUT": "3.5",
        },
        env_file=None,
    )
    assert s.translate_provider == "libretranslate"
    assert s.translate_url == "http://libretranslate:5000" and s.translate_timeout == 3.5


def test_deepl_endpoint_follows_the_key_and_the_key_stays_out_of_repr():
    free = load_settings(
        environ={"THINKA_TRANSLATE": "deepl", "THINKA_TRANSLATE_KEY": "abc-123:fx"}, env_file=None
    )
    assert free.translate_url == "https://api-free.deepl.com"
    assert "abc-123" not in repr(free)
    pro = load_settings(
        environ={"THINKA_TRANSLATE": "deepl", "THINKA_TRANSLATE_KEY": "abc-123"}, env_file=None
    )
    assert pro.translate_url == "https://api.deepl.com"


def test_openai_compatible_needs_url_and_model():
    s = load_settings(
        environ={
            "THINKA_TRANSLATE": "openai",
            "THINKA_TRANSLATE_URL": "http://127.0.0.1:11434/v1",
            "THINKA_TRANSLATE_MODEL": "llama3.1:8b",
        },
        env_file=None,
    )
    assert (s.translate_provider, s.translate_model) == ("openai", "llama3.1:8b")
    assert s.translate_key is None


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"THINKA_TRANSLATE": "google"}, "libretranslate, deepl, openai or off"),
        ({"THINKA_TRANSLATE": "libretranslate"}, "needs THINKA_TRANSLATE_URL"),
        ({"THINKA_TRANSLATE": "deepl"}, "needs THINKA_TRANSLATE_KEY"),
        (
            {"THINKA_TRANSLATE": "openai", "THINKA_TRANSLATE_URL": "http://x:1/v1"},
            "needs THINKA_TRANSLATE_MODEL",
        ),
        (
            {"THINKA_TRANSLATE": "libretranslate", "THINKA_TRANSLATE_URL": "libretranslate:5000"},
            r"THINKA_TRANSLATE_URL must be an http\(s\) URL",
        ),
        (
            {
                "THINKA_TRANSLATE": "libretranslate",
                "THINKA_TRANSLATE_URL": "http://lt:5000",
                "THINKA_TRANSLATE_TIMEOUT": "0",
            },
            "THINKA_TRANSLATE_TIMEOUT must be a positive number",
        ),
        (
            {
                "THINKA_TRANSLATE": "libretranslate",
                "THINKA_TRANSLATE_URL": "http://lt:5000",
                "THINKA_TRANSLATE_TIMEOUT": "120",
            },
            "at most 30 seconds",
        ),
    ],
)
def test_bad_translation_settings_give_one_clear_line(environ, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(environ=environ, env_file=None)
    assert "\n" not in str(info.value)
