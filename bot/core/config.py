"""Settings from the environment (and a .env file), validated once at start-up.

Every problem becomes a `ConfigError` with one line an operator can act on; the CLI turns it into
exit status 2. The token never appears in a repr or a log line.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.core.paths import CONTENT_DIR, DATA_DIR

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_API_FILE_URL = "https://api.telegram.org/file/bot"
BUNDLED_CONFIG = DATA_DIR / "thinka-erfurt.toml"
# Self-help answers and the Wegweiser (content/README.md): edited by staff, reloaded with /reload.
BUNDLED_CONTENT = CONTENT_DIR
TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")
# Machine translation (bot/translation, docs/translation.md): the providers the bot can talk to.
TRANSLATION_PROVIDERS = ("libretranslate", "deepl", "openai")
DEEPL_FREE_URL = "https://api-free.deepl.com"
DEEPL_PRO_URL = "https://api.deepl.com"
# A message waits for its translation at most this long; then it goes out untranslated.
DEFAULT_TRANSLATE_TIMEOUT = 5.0
MAX_TRANSLATE_TIMEOUT = 30.0


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    token: str | None = field(repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    api_file_url: str = DEFAULT_API_FILE_URL
    db_path: Path = Path("data/thinka.sqlite3")
    config_path: Path = BUNDLED_CONFIG
    content_path: Path = BUNDLED_CONTENT
    staff_chat_id: int | None = None
    admin_ids: frozenset[int] = frozenset()
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))
    broadcast_rate: float = 25.0
    # Messages a minute the courier sends into the staff group: Telegram allows 20 a minute per
    # group; two stay free for the handlers' direct answers there.
    staff_group_rate: int = 18
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: tuple[str, int] = ("0.0.0.0", 8443)
    log_level: str = "INFO"
    retention_days: int = 180
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    # None: machine translation is off.
    translate_provider: str | None = None
    translate_url: str | None = None
    translate_key: str | None = field(default=None, repr=False)
    translate_model: str | None = None
    translate_timeout: float = DEFAULT_TRANSLATE_TIMEOUT
    # THINKA_OCR: read the letters residents send (bot/letters); off: photos stay photos.
    ocr: bool = True
    # Each resident's data key, in a file of its own (bot/core/keystore.py); None: next to the
    # database, "thinka-keys.sqlite3" for "thinka.sqlite3".
    keys_db: Path | None = None
    # Days `python -m bot backup DIR` keeps the database copies it wrote.
    backup_days: int = 30

    @property
    def keys_path(self) -> Path:
        if self.keys_db is not None:
            return self.keys_db
        return self.db_path.with_name(f"{self.db_path.stem}-keys{self.db_path.suffix}")

    def require_token(self) -> str:
        if not self.token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather "
                "(or run `python -m bot demo`, which needs none)"
            )
        return self.token


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings; the process environment wins over the .env file."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not TOKEN_PATTERN.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits:letters)")

    webhook_url = get("THINKA_WEBHOOK_URL")
    webhook_secret = get("THINKA_WEBHOOK_SECRET")
    if webhook_url:
        if not re.match(r"^https?://[^\s/]+", webhook_url):
            raise ConfigError(f"THINKA_WEBHOOK_URL must be an http(s) URL, got {webhook_url!r}")
        if not webhook_secret:
            raise ConfigError("THINKA_WEBHOOK_SECRET is required when THINKA_WEBHOOK_URL is set")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret):
            raise ConfigError("THINKA_WEBHOOK_SECRET may only use A-Z, a-z, 0-9, _ and - (1-256)")

    translate = _translation(get)

    return Settings(
        token=token,
        api_base_url=_url(
            get("TELEGRAM_API_BASE_URL"), DEFAULT_API_BASE_URL, "TELEGRAM_API_BASE_URL"
        ),
        api_file_url=_url(
            get("TELEGRAM_API_FILE_URL"), DEFAULT_API_FILE_URL, "TELEGRAM_API_FILE_URL"
        ),
        db_path=Path(get("THINKA_DB") or "data/thinka.sqlite3"),
        config_path=_config_path(get("THINKA_CONFIG")),
        content_path=_content_path(get("THINKA_CONTENT")),
        staff_chat_id=_int(get("THINKA_STAFF_CHAT_ID"), "THINKA_STAFF_CHAT_ID"),
        admin_ids=_id_set(get("THINKA_ADMIN_IDS")),
        timezone=_timezone(get("THINKA_TIMEZONE") or "Europe/Berlin"),
        broadcast_rate=_positive_float(
            get("THINKA_BROADCAST_RATE") or "25", "THINKA_BROADCAST_RATE"
        ),
        staff_group_rate=_positive_int(
            get("THINKA_STAFF_GROUP_RATE") or "18", "THINKA_STAFF_GROUP_RATE"
        ),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=_listen(get("THINKA_WEBHOOK_LISTEN") or "0.0.0.0:8443"),
        log_level=_log_level(get("THINKA_LOG_LEVEL") or "INFO"),
        encryption_keys=_fernet_keys(get("THINKA_ENCRYPTION_KEY")),
        retention_days=_positive_int(
            get("THINKA_RETENTION_DAYS") or "180", "THINKA_RETENTION_DAYS"
        ),
        **translate,
        ocr=_switch(get("THINKA_OCR") or "on", "THINKA_OCR"),
        keys_db=Path(keys) if (keys := get("THINKA_KEYS_DB")) else None,
        backup_days=_positive_int(get("THINKA_BACKUP_DAYS") or "30", "THINKA_BACKUP_DAYS"),
    )


def _translation(get) -> dict:
    """THINKA_TRANSLATE and its companions; off (all None) when THINKA_TRANSLATE is unset."""
    provider = (get("THINKA_TRANSLATE") or "off").lower()
    if provider == "off":
        return {}
    if provider not in TRANSLATION_PROVIDERS:
        raise ConfigError(
            f"THINKA_TRANSLATE must be libretranslate, deepl, openai or off, got {provider!r}"
        )
    key = get("THINKA_TRANSLATE_KEY")
    model = get("THINKA_TRANSLATE_MODEL")
    url = get("THINKA_TRANSLATE_URL")
    if provider == "deepl":
        if key is None:
            raise ConfigError("THINKA_TRANSLATE=deepl needs THINKA_TRANSLATE_KEY (the API key)")
        # Free keys end in ":fx" and only work on the free endpoint (DeepL's documentation).
        url = url or (DEEPL_FREE_URL if key.endswith(":fx") else DEEPL_PRO_URL)
    elif url is None:
        raise ConfigError(
            f"THINKA_TRANSLATE={provider} needs THINKA_TRANSLATE_URL (where the service runs)"
        )
    if provider == "openai" and model is None:
        raise ConfigError(
            "THINKA_TRANSLATE=openai needs THINKA_TRANSLATE_MODEL (e.g. llama3.1:8b for Ollama)"
        )
    timeout = _positive_float(
        get("THINKA_TRANSLATE_TIMEOUT") or str(DEFAULT_TRANSLATE_TIMEOUT),
        "THINKA_TRANSLATE_TIMEOUT",
    )
    if timeout > MAX_TRANSLATE_TIMEOUT:
        raise ConfigError(
            f"THINKA_TRANSLATE_TIMEOUT must be at most {MAX_TRANSLATE_TIMEOUT:g} seconds (a message"
            f" waits that long for its translation), got {timeout:g}"
        )
    return {
        "translate_provider": provider,
        "translate_url": _url(url, DEEPL_PRO_URL, "THINKA_TRANSLATE_URL").rstrip("/"),
        "translate_key": key,
        "translate_model": model,
        "translate_timeout": timeout,
    }


def _url(value: str | None, default: str, name: str) -> str:
    if value is None:
        return default
    if not re.match(r"^https?://[^\s/]+", value):
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _config_path(value: str | None) -> Path:
    if value is None:
        return BUNDLED_CONFIG
    path = Path(value)
    if not path.is_file():
        raise ConfigError(f"THINKA_CONFIG points to {value!r}, which is not a readable file")
    return path


def _content_path(value: str | None) -> Path:
    if value is None:
        return BUNDLED_CONTENT
    path = Path(value)
    if not (path / "faq").is_dir():
        raise ConfigError(f"THINKA_CONTENT points to {value!r}, which has no faq/ folder")
    return path


def _int(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(
            f"{name} must be a whole number (a Telegram chat id), got {value!r}"
        ) from None


def _id_set(value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    ids = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"\d+", part):
            raise ConfigError(
                f"THINKA_ADMIN_IDS must be comma-separated Telegram user ids, got {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


def _timezone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"THINKA_TIMEZONE {value!r} is not a known time zone (e.g. Europe/Berlin)"
        ) from None


def _positive_float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0 or number != number or number == float("inf"):
        raise ConfigError(f"{name} must be a positive number, got {value!r}")
    return number


def _positive_int(value: str, name: str) -> int:
    if not re.fullmatch(r"\d+", value) or int(value) <= 0:
        raise ConfigError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


_ON = {"on", "1", "true", "yes", "ja"}
_OFF = {"off", "0", "false", "no", "nein"}


def _switch(value: str, name: str) -> bool:
    word = value.strip().lower()
    if word not in _ON | _OFF:
        raise ConfigError(f"{name} must be on or off, got {value!r}")
    return word in _ON


def _listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"THINKA_WEBHOOK_LISTEN must be HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in logging.getLevelNamesMapping():
        raise ConfigError(f"THINKA_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _fernet_keys(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    from cryptography.fernet import Fernet

    keys = tuple(part.strip() for part in value.split(",") if part.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                f"THINKA_ENCRYPTION_KEY: key {number} is not a Fernet key (make one with: python"
                " -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key()"
                ".decode())')"
            ) from None
    return keys
