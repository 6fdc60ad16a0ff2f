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
# A line of its own in a migration that drops and recreates a table (see Database.migrate).
REBUILD_MARK = "-- rebuilds a table: foreign keys off"


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
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def insert(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        async with self._conn.execute(sql, params) as cursor:
            return cursor.lastrowid or 0

    async def fetchone(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()):
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchall()

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)


# The pragmas of every file the bot keeps: the database and the key file (bot/core/keystore.py).
FILE_PRAGMAS = (
    "journal_mode = WAL",
    # FULL: a committed request must survive a power cut, not only a crash.
    "synchronous = FULL",
    # Deleted content is overwritten with zeros, not left in free pages: erased messages must
    # not be readable from the file afterwards.
    "secure_delete = ON",
)
# How long the checkpoint after an erasure waits for another connection to finish reading
# (`python -m bot backup`, an operator's sqlite3): short, as the lock is held meanwhile; a job
# tries again (`checkpoint_pending`).
CHECKPOINT_WAIT_MS = 200

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
        self.attached: dict[str, Path] = {}
        # An erasure whose WAL could not be emptied yet (another connection was reading).
        self.checkpoint_pending = False

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        try:
            for pragma in ("foreign_keys = ON", "busy_timeout = 5000", *FILE_PRAGMAS):
                # Closed at once: a pragma answers with a row, and a statement left open
                # would keep VACUUM (`compact`) from running.
                async with conn.execute(f"PRAGMA {pragma}"):
                    pass
        except Exception:
            await conn.close()
            raise
        return cls(conn, path)

    async def close(self) -> None:
        await self._conn.close()

    async def attach(self, path: Path, name: str) -> None:
        """Open another file on this connection as schema `name` (same lock, same pragmas);
        statements name its tables `name.table`."""
        if not re.fullmatch(r"[a-z]+", name):
            raise ValueError(f"bad schema name {name!r}")
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            await self._run(f"ATTACH DATABASE ? AS {name}", (str(path),))
            for pragma in FILE_PRAGMAS:
                await self._run(f"PRAGMA {name}.{pragma}")
        self.attached[name] = path

    # -- single statements (autocommit) -----------------------------------------------------
    async def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> int:
        if (tx := _joined()) is not None:
            return await tx.execute(sql, params)
        async with self._lock, self._conn.execute(sql, params) as cursor:
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
                # SQLite may have rolled back already (a full disk does): a second ROLLBACK
                # would fail and hide the error that matters.
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise
            tx.open = False
            _CURRENT.reset(token)
            try:
                await self._conn.execute("COMMIT")
            except BaseException:
                # A COMMIT that failed (disk full, locked) leaves the transaction open: every
                # later BEGIN would fail until the process restarts.
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise

    # -- schema ---------------------------------------------------------------------------------
    async def schema_version(self) -> int:
        async with self._lock:
            await self._ensure_version_table()
            async with self._conn.execute("SELECT MAX(version) FROM schema_version") as cursor:
                row = await cursor.fetchone()
        return row[0] or 0

    async def applied_versions(self) -> set[int]:
        async with self._lock:
            await self._ensure_version_table()
            async with self._conn.execute("SELECT version FROM schema_version") as cursor:
                return {row[0] for row in await cursor.fetchall()}

    async def migrate(self, migrations: list[Migration] | None = None) -> list[Migration]:
        """Apply pending migrations in order, each in its own transaction; return those applied.

        Pending means "not recorded in schema_version", not "above the highest number": work
        developed side by side lands in any order, and a database that already has 0014 must
        still get a 0012 that was merged after it."""
        migrations = load_migrations() if migrations is None else migrations
        applied: list[Migration] = []
        done = await self.applied_versions()
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            # A migration that rebuilds a table (SQLite cannot alter a CHECK constraint) says
            # so on a line of its own: foreign keys are off while it runs, as SQLite's own
            # procedure for such changes asks, or the DROP of the old table would delete every
            # row that references it (ON DELETE CASCADE) in tables added by later migrations.
            rebuilds = REBUILD_MARK in migration.sql.splitlines()
            async with self._lock:
                try:
                    if rebuilds:
                        await self._run("PRAGMA foreign_keys = OFF")
                    # executescript commits a pending transaction first and then runs the script
                    # as written: the BEGIN in front keeps the whole file and its version row in
                    # one transaction (migration files must not contain BEGIN/COMMIT themselves).
                    await self._conn.executescript("BEGIN IMMEDIATE;\n" + migration.sql)
                    if rebuilds:
                        async with self._conn.execute("PRAGMA foreign_key_check") as cursor:
                            broken = await cursor.fetchall()
                        if broken:
                            raise sqlite3.IntegrityError(
                                f"{len(broken)} rows break a foreign key, first {tuple(broken[0])}"
                            )
                    await self._conn.execute(
                        "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                        (migration.version, migration.name),
                    )
                    await self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        await self._conn.execute("ROLLBACK")
                    raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
                finally:
                    if rebuilds:
                        await self._run("PRAGMA foreign_keys = ON")
            logger.info("applied migration %s", migration.name)
            applied.append(migration)
        return applied

    async def checkpoint(self) -> bool:
        """Move the WAL of every open file into it and empty it: after an erasure the old page
        images in the WAL still hold the erased data. False when another connection is still
        reading (SQLite may then not reset the WAL): `checkpoint_pending` stays set and the
        bot's job tries again until it succeeds."""
        done = True
        async with self._lock:
            await self._run(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                for schema in ("main", *self.attached):
                    async with self._conn.execute(
                        f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)"
                    ) as cursor:
                        busy, _log, _moved = await cursor.fetchone()
                    done = done and busy == 0
            finally:
                await self._run("PRAGMA busy_timeout = 5000")
        self.checkpoint_pending = not done
        return done

    async def compact(self) -> bool:
        """Rewrite every open file page by page (VACUUM), then empty the WAL. Deleting a row
        can leave its key behind inside the b-tree: a rowid or indexed value (a Telegram id)
        that served as a divider between pages stays in the parent page until the tree is
        rebuilt. False when another connection kept it from running; tried again later."""
        async with self._lock:
            await self._run(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                for schema in ("main", *self.attached):
                    await self._run(f"VACUUM {schema}")
            except sqlite3.OperationalError as error:
                logger.warning("compaction postponed: %s", error)
                return False
            finally:
                await self._run("PRAGMA busy_timeout = 5000")
        return await self.checkpoint()

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """A statement whose answer is not needed, closed at once (the lock is held)."""
        async with self._conn.execute(sql, params):
            pass

    async def backup(self, target: Path, schema: str = "main") -> None:
        """A consistent copy of one file while the bot keeps running (SQLite's online backup
        API): the database, or an attached file such as the keys."""
        target.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            dest = await aiosqlite.connect(target)
            try:
                await self._conn.backup(dest, name=schema)
            finally:
                await dest.close()

    async def _ensure_version_table(self) -> None:
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
        )
