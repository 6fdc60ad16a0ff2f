"""The one SQLite connection of the process, its transactions and the forward-only migrations.

aiosqlite runs every statement on one worker thread, so statements never run in parallel; but two
tasks could still interleave statements *between* BEGIN and COMMIT and end up in each other's
transaction. A single asyncio lock around every statement and every transaction prevents that.
The connection runs in autocommit mode (isolation_level=None) so that transactions are exactly the
ones opened here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.paths import MIGRATIONS_DIR

logger = logging.getLogger(__name__)

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class MigrationError(Exception):
    """A migration failed; the database is left as it was before that migration."""


class DatabaseUnavailable(Exception):
    """The database file is not a database, is damaged, or another process holds it locked."""


def check_database_file(path: Path, timeout: float = 2.0) -> None:
    """Fail before start-up, with one clear line, on a file the bot cannot use, and leave the
    file as it is: read its header and schema, and try (and roll back) a write lock. Deeper
    damage inside a table is only found when that page is read."""
    if str(path) == ":memory:" or not path.exists():
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=timeout)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"database {path} cannot be opened: {exc}") from exc
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        reason = (
            "another process holds it locked (is the bot running already?)"
            if "locked" in str(exc) or "busy" in str(exc)
            else f"it is damaged or not a database ({exc})"
        )
        raise DatabaseUnavailable(f"database {path} cannot be used: {reason}") from exc
    finally:
        conn.close()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    if not directory.is_dir():
        raise MigrationError(f"migrations folder {directory} not found")
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text("utf-8")))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migrations share a version number")
    return migrations


class Transaction:
    """Statements inside one BEGIN IMMEDIATE … COMMIT; the lock is already held."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.owner = asyncio.current_task()
        self.open = True

    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.lastrowid or 0

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)


# The transaction the running task holds, if any. A repository method called by that task while
# it holds one (e.g. a courier hook run inside the transaction that records a delivery) joins it
# instead of waiting for the lock its own caller holds.
_CURRENT: ContextVar[Transaction | None] = ContextVar("thinka_transaction", default=None)


def _joined() -> Transaction | None:
    tx = _CURRENT.get()
    if tx is not None and tx.open and tx.owner is asyncio.current_task():
        return tx
    return None


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            for pragma in (
                "PRAGMA journal_mode = WAL",
                "PRAGMA foreign_keys = ON",
                # FULL: a committed request must survive a power cut, not only a crash.
                "PRAGMA synchronous = FULL",
                "PRAGMA busy_timeout = 5000",
                # Deleted content is overwritten with zeros, not left in free pages: erased
                # messages must not be readable from the file afterwards.
                "PRAGMA secure_delete = ON",
            ):
                await conn.execute(pragma)
        except Exception:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    # -- single statements (autocommit) -----------------------------------------------------
    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        if (tx := _joined()) is not None:
            return await tx.execute(sql, params)
        async with self._lock:
            cursor = await self._conn.execute(sql, params)
            return cursor.rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        if (tx := _joined()) is not None:
            return await tx.fetchone(sql, params)
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        if (tx := _joined()) is not None:
            return await tx.fetchall(sql, params)
        async with self._lock, self._conn.execute(sql, params) as cursor:
            return await cursor.fetchall()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT; inside one the same task holds already, that one."""
        if (joined := _joined()) is not None:
            yield joined
            return
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            tx = Transaction(self._conn)
            token = _CURRENT.set(tx)
            try:
                yield tx
            except BaseException:
                tx.open = False
                _CURRENT.reset(token)
                await self._conn.execute("ROLLBACK")
                raise
            tx.open = False
            _CURRENT.reset(token)
            await self._conn.execute("COMMIT")

    # -- schema ---------------------------------------------------------------------------------
    async def schema_version(self) -> int:
        async with self._lock:
            await self._ensure_version_table()
            async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
                row = await cursor.fetchone()
        return row[0] or 0

    async def migrate(self, migrations: list[Migration] | None = None) -> list[Migration]:
        """Apply pending migrations in order, each in its own transaction; return those applied."""
        migrations = load_migrations() if migrations is None else migrations
        applied: list[Migration] = []
        current = await self.schema_version()
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version <= current:
                continue
            async with self._lock:
                try:
                    # executescript commits a pending transaction first and then runs the script
                    # as written: the BEGIN in front keeps the whole file and its version row in
                    # one transaction (migration files must not contain BEGIN/COMMIT themselves).
                    await self._conn.executescript("BEGIN IMMEDIATE;\n" + migration.sql)
                    await self._conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                        (migration.version, migration.name),
                    )
                    await self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            logger.info("applied migration %s", migration.name)
            applied.append(migration)
        return applied

    async def checkpoint(self) -> None:
        """Move the WAL into the database file and empty it: after an erasure the old page
        images in the WAL still hold the erased text."""
        async with self._lock:
            await self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def backup(self, target: Path) -> None:
        """A consistent copy while the bot keeps running (SQLite's online backup API)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            dest = await aiosqlite.connect(target)
            try:
                await self._conn.backup(dest)
            finally:
                await dest.close()

    async def _ensure_version_table(self) -> None:
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
        )
