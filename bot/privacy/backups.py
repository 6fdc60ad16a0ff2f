"""Backups: `python -m bot backup FOLDER`, what they hold and for how long.

- The database goes to FOLDER/thinka-YYYYMMDDTHHMMSSZ.sqlite3: a consistent copy, made while the
  bot runs (SQLite's online backup API).
- The key file (bot/core/keystore.py, only with THINKA_ENCRYPTION_KEY) goes to
  FOLDER/thinka-keys.sqlite3, written over the copy before: the folder only ever holds the
  newest. A resident who erases their data loses their key at once in the key file, and in the
  folder at the next backup; from then on no database copy holds anything readable of them
  (their texts, names and notes are sealed with that key), and a restored copy erases them
  again at start-up (the key file remembers the erasure; bot/privacy/erasure.py).
- Database copies older than THINKA_BACKUP_DAYS (default 30) are deleted.

Without THINKA_ENCRYPTION_KEY the copies hold everything in clear, until they are deleted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.db import Database

COPY_FORMAT = "thinka-%Y%m%dT%H%M%SZ.sqlite3"
COPY_NAME = re.compile(r"^thinka-(\d{8}T\d{6}Z)\.sqlite3$")
KEYS_NAME = "thinka-keys.sqlite3"


async def write_backup(
    db: Database, folder: Path, keep_days: int, now: datetime | None = None
) -> list[str]:
    """Write the copies, delete the old ones; returns one line per thing done."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    copy = folder / now.strftime(COPY_FORMAT)
    await db.backup(copy)
    done = [f"database copied to {copy}"]
    if "keys" in db.attached:
        # Into the copy before, page by page: its old pages (a key deleted since included)
        # are written over, not left behind in a deleted file.
        await db.backup(folder / KEYS_NAME, schema="keys")
        done.append(f"key file copied to {folder / KEYS_NAME} (the newest copy only)")
    for old in expired(folder, now - timedelta(days=keep_days)):
        for part in (old, old.with_name(old.name + "-wal"), old.with_name(old.name + "-shm")):
            part.unlink(missing_ok=True)
        done.append(f"{old.name} deleted (older than {keep_days} days)")
    return done


def expired(folder: Path, before: datetime) -> list[Path]:
    """The database copies in `folder` made before `before` (by the time in their name)."""
    found = []
    for path in sorted(folder.iterdir()):
        match = COPY_NAME.match(path.name)
        if match is None:
            continue
        made = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if made < before:
            found.append(path)
    return found
