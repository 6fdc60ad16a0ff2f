"""The one SQLite connection of the process, its transactions and the forward-only migrations.

Where a statement runs. A short statement (a case row, an inbox mark) costs SQLite a few
microseconds; handing it to a worker thread and back costs the event loop about 70 µs of CPU
and two wake-ups, which was most of the bot's time per update (docs/performance.md). So short
statements run right here, on the event loop's thread, on the sqlite3 connection aiosqlite
opened. What waits for the disk does not: a COMMIT, and a write outside a transaction (which
commits on its own), go to aiosqlite's worker thread (`_commits`) — one hop per unit of work,
not one per statement. Long work (the funder report, retention sweeps, erasure exports, backups,
VACUUM, WAL checkpoints, migrations) runs on a worker thread too (`slow=True`, `off_loop()`), so
the loop keeps serving residents meanwhile. A statement that finds the file locked by another
process does not wait on the loop either: the loop's busy timeout is 0, and the statement is
tried again on a worker thread with the full busy timeout (BUSY_TIMEOUT_MS), where waiting
blocks nobody.

Transactions. Statements never run in parallel (one connection), but two tasks could interleave
statements *between* BEGIN and COMMIT and end up in each other's transaction. A single asyncio
lock around every statement and every transaction prevents that, and it is held while a worker
thread runs a statement, so the loop never uses the connection at the same time. The connection
runs in autocommit mode (isolation_level=None) so that transactions are exactly the ones opened
here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.paths import MIGRATIONS_DIR

logger = logging.getLogger(__name__)

T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# A line of its own in a migration that drops and recreates a table (see Database.migrate).
REBUILD_MARK = "-- rebuilds a table: foreign keys off"
# How long a statement waits for another process's lock (a second bot, an operator's sqlite3)
# before "database is locked": waited out on a worker thread, never on the event loop.
BUSY_TIMEOUT_MS = 5000
# SQLITE_BUSY and SQLITE_LOCKED (primary codes): the statement did nothing and may be tried again.
_BUSY_CODES = (5, 6)


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


def _closed(cursor: sqlite3.Cursor, answer: Callable[[sqlite3.Cursor], T]) -> T:
    """The cursor's answer, the cursor closed: a statement left open would keep its read
    snapshot (WAL) and keep VACUUM (`compact`) and checkpoints from running."""
    try:
        return answer(cursor)
    finally:
        cursor.close()


def _commits(sql: str) -> bool:
    """A statement outside a transaction that writes commits on its own, and a commit waits for
    the disk (synchronous = FULL): a fraction of a millisecond on an idle disk, several on a
    busy one. That wait goes to a worker thread, so the loop serves other updates meanwhile;
    reads, and the statements inside a transaction, never wait for the disk."""
    return sql.lstrip()[:6].upper() not in ("SELECT", "PRAGMA")


def _rowcount(cursor: sqlite3.Cursor) -> int:
    return cursor.rowcount


def _lastrowid(cursor: sqlite3.Cursor) -> int:
    return cursor.lastrowid or 0


def _one(cursor: sqlite3.Cursor) -> Any:
    return cursor.fetchone()


def _all(cursor: sqlite3.Cursor) -> list[Any]:
    return cursor.fetchall()


class Transaction:
    """Statements inside one BEGIN IMMEDIATE … COMMIT; the lock is already held."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.owner = asyncio.current_task()
        self.open = True

    async def execute(self, sql: str, params: Params = (), *, slow: bool = False) -> int:
        return await self._db._statement(sql, params, _rowcount, slow)

    async def insert(self, sql: str, params: Params = (), *, slow: bool = False) -> int:
        return await self._db._statement(sql, params, _lastrowid, slow)

    async def fetchone(self, sql: str, params: Params = (), *, slow: bool = False):
        return await self._db._statement(sql, params, _one, slow)

    async def fetchall(self, sql: str, params: Params = (), *, slow: bool = False):
        return await self._db._statement(sql, params, _all, slow)

    async def executemany(
        self, sql: str, rows: Iterable[Sequence[Any]], *, slow: bool = False
    ) -> None:
        conn = self._db._conn
        await self._db._call(lambda: _closed(conn.executemany(sql, rows), _rowcount), slow)


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


# Set by `Database.off_loop()`: every statement of this task runs on a worker thread.
_OFF_LOOP: ContextVar[bool] = ContextVar("thinka_off_loop", default=False)


def _joined() -> Transaction | None:
    tx = _CURRENT.get()
    if tx is not None and tx.open and tx.owner is asyncio.current_task():
        return tx
    return None


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        # aiosqlite owns the connection and its one worker thread: what waits (commits, long
        # work, another process's lock) runs there (`_in_thread`). Short statements use the
        # same sqlite3 connection from the loop's thread; the lock below makes sure the two
        # threads never use it at once (it was opened with check_same_thread=False for that).
        self._aio = conn
        self._conn: sqlite3.Connection = conn._conn
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
        # Opening may wait for another process (journal recovery, the WAL switch): on
        # aiosqlite's thread. check_same_thread=False: the loop's thread and that thread take
        # turns (the lock in Database makes sure they never overlap). timeout=0: see the module
        # docstring.
        conn = await aiosqlite.connect(
            path, isolation_level=None, check_same_thread=False, timeout=0
        )
        try:
            await conn._execute(cls._prepare, conn._conn)
        except BaseException:
            await conn.close()
            raise
        return cls(conn, path)

    @staticmethod
    def _prepare(conn: sqlite3.Connection) -> None:
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}").close()
            for pragma in ("foreign_keys = ON", *FILE_PRAGMAS):
                # Closed at once: a pragma answers with a row, and a statement left open
                # would keep VACUUM (`compact`) from running.
                conn.execute(f"PRAGMA {pragma}").close()
            conn.execute("PRAGMA busy_timeout = 0").close()
        except BaseException:
            conn.close()
            raise

    async def close(self) -> None:
        async with self._lock:
            await self._aio.close()  # closes the connection on its thread, ends the thread

    async def attach(self, path: Path, name: str) -> None:
        """Open another file on this connection as schema `name` (same lock, same pragmas);
        statements name its tables `name.table`."""
        if not re.fullmatch(r"[a-z]+", name):
            raise ValueError(f"bad schema name {name!r}")
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        async with self._lock:
            await self._run(f"ATTACH DATABASE ? AS {name}", (str(path),), slow=True)
            for pragma in FILE_PRAGMAS:
                await self._run(f"PRAGMA {name}.{pragma}", slow=True)
        self.attached[name] = path

    # -- where a statement runs (the lock is held) ---------------------------------------------
    async def _call(self, work: Callable[[], T], slow: bool) -> T:
        """`work` on the loop's thread, or on a worker thread when it is slow or has to wait
        for another process's lock."""
        if not (slow or _OFF_LOOP.get()):
            try:
                return work()
            except sqlite3.OperationalError as error:
                if (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF not in _BUSY_CODES:
                    raise
                # Nothing was done: the statement waits for the lock on a worker thread.
        return await self._in_thread(self._patiently, work, BUSY_TIMEOUT_MS)

    def _patiently(self, work: Callable[[], T], wait_ms: int) -> T:
        """On a worker thread: `work` with a busy timeout, the loop's 0 restored after."""
        self._conn.execute(f"PRAGMA busy_timeout = {int(wait_ms)}").close()
        try:
            return work()
        finally:
            self._conn.execute("PRAGMA busy_timeout = 0").close()

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` on a worker thread. Cancelled meanwhile, the caller still waits
        for the thread to finish before it lets go of the lock: the connection must never be
        used from two threads at once."""
        # aiosqlite's queue to its thread (`_execute`: the call every public aiosqlite method
        # makes), for our own functions over the connection.
        future = asyncio.ensure_future(self._aio._execute(function, *args))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    async def _statement(
        self, sql: str, params: Params, answer: Callable[[sqlite3.Cursor], T], slow: bool
    ) -> T:
        conn = self._conn
        return await self._call(lambda: _closed(conn.execute(sql, params), answer), slow)

    async def _run(self, sql: str, params: Sequence[Any] = (), *, slow: bool = False) -> None:
        """A statement whose answer is not needed, closed at once (the lock is held)."""
        await self._statement(sql, params, _rowcount, slow)

    @staticmethod
    @contextmanager
    def off_loop() -> Iterator[None]:
        """Every statement of the running task, however deep in the repositories it is issued,
        runs on a worker thread while inside: for a unit of long work such as a report."""
        token = _OFF_LOOP.set(True)
        try:
            yield
        finally:
            _OFF_LOOP.reset(token)

    # -- single statements (autocommit) -----------------------------------------------------
    # slow=True: a query that reads many rows (reports, retention, exports) runs on a worker
    # thread; everything else runs on the loop's thread (see the module docstring).
    async def execute(self, sql: str, params: Params = (), *, slow: bool = False) -> int:
        if (tx := _joined()) is not None:
            return await tx.execute(sql, params, slow=slow)
        async with self._lock:
            return await self._statement(sql, params, _rowcount, slow or _commits(sql))

    async def fetchone(self, sql: str, params: Params = (), *, slow: bool = False):
        if (tx := _joined()) is not None:
            return await tx.fetchone(sql, params, slow=slow)
        async with self._lock:
            return await self._statement(sql, params, _one, slow or _commits(sql))

    async def fetchall(self, sql: str, params: Params = (), *, slow: bool = False):
        if (tx := _joined()) is not None:
            return await tx.fetchall(sql, params, slow=slow)
        async with self._lock:
            return await self._statement(sql, params, _all, slow or _commits(sql))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT; inside one the same task holds already, that one."""
        if (joined := _joined()) is not None:
            yield joined
            return
        async with self._lock:
            await self._run("BEGIN IMMEDIATE")
            tx = Transaction(self)
            token = _CURRENT.set(tx)
            try:
                yield tx
            except BaseException:
                tx.open = False
                _CURRENT.reset(token)
                # SQLite may have rolled back already (a full disk does): a second ROLLBACK
                # would fail and hide the error that matters.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK").close()
                raise
            tx.open = False
            _CURRENT.reset(token)
            try:
                await self._run("COMMIT", slow=True)  # waits for the disk: see _commits
            except BaseException:
                # A COMMIT that failed (disk full, locked) leaves the transaction open: every
                # later BEGIN would fail until the process restarts.
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK").close()
                raise

    # -- schema ---------------------------------------------------------------------------------
    async def schema_version(self) -> int:
        async with self._lock:
            await self._ensure_version_table()
            row = await self._statement("SELECT MAX(version) FROM schema_version", (), _one, False)
        return row[0] or 0

    async def applied_versions(self) -> set[int]:
        async with self._lock:
            await self._ensure_version_table()
            rows = await self._statement("SELECT version FROM schema_version", (), _all, False)
        return {row[0] for row in rows}

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
            async with self._lock:
                # A migration may rebuild a large table: on a worker thread.
                await self._in_thread(
                    self._patiently, lambda m=migration: self._apply(m), BUSY_TIMEOUT_MS
                )
            logger.info("applied migration %s", migration.name)
            applied.append(migration)
        return applied

    def _apply(self, migration: Migration) -> None:
        """One migration and its version row in one transaction (on a worker thread)."""
        conn = self._conn
        # A migration that rebuilds a table (SQLite cannot alter a CHECK constraint) says so on
        # a line of its own: foreign keys are off while it runs, as SQLite's own procedure for
        # such changes asks, or the DROP of the old table would delete every row that
        # references it (ON DELETE CASCADE) in tables added by later migrations.
        rebuilds = REBUILD_MARK in migration.sql.splitlines()
        try:
            if rebuilds:
                conn.execute("PRAGMA foreign_keys = OFF").close()
            # executescript commits a pending transaction first and then runs the script as
            # written: the BEGIN in front keeps the whole file and its version row in one
            # transaction (migration files must not contain BEGIN/COMMIT themselves).
            conn.executescript("BEGIN IMMEDIATE;\n" + migration.sql).close()
            if rebuilds:
                broken = _closed(conn.execute("PRAGMA foreign_key_check"), _all)
                if broken:
                    raise sqlite3.IntegrityError(
                        f"{len(broken)} rows break a foreign key, first {tuple(broken[0])}"
                    )
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            ).close()
            conn.execute("COMMIT").close()
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK").close()
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        finally:
            if rebuilds:
                conn.execute("PRAGMA foreign_keys = ON").close()

    async def checkpoint(self) -> bool:
        """Move the WAL of every open file into it and empty it: after an erasure the old page
        images in the WAL still hold the erased data. False when another connection is still
        reading (SQLite may then not reset the WAL): `checkpoint_pending` stays set and the
        bot's job tries again until it succeeds."""
        async with self._lock:
            done = await self._in_thread(self._patiently, self._checkpoint, CHECKPOINT_WAIT_MS)
        self.checkpoint_pending = not done
        return done

    def _checkpoint(self) -> bool:
        done = True
        for schema in ("main", *self.attached):
            cursor = self._conn.execute(f"PRAGMA {schema}.wal_checkpoint(TRUNCATE)")
            busy, _log, _moved = _closed(cursor, _one)
            done = done and busy == 0
        return done

    async def compact(self) -> bool:
        """Rewrite every open file page by page (VACUUM), then empty the WAL. Deleting a row
        can leave its key behind inside the b-tree: a rowid or indexed value (a Telegram id)
        that served as a divider between pages stays in the parent page until the tree is
        rebuilt. False when another connection kept it from running; tried again later."""
        async with self._lock:
            try:
                await self._in_thread(self._patiently, self._vacuum, CHECKPOINT_WAIT_MS)
            except sqlite3.OperationalError as error:
                logger.warning("compaction postponed: %s", error)
                return False
        return await self.checkpoint()

    def _vacuum(self) -> None:
        for schema in ("main", *self.attached):
            self._conn.execute(f"VACUUM {schema}").close()

    async def backup(self, target: Path, schema: str = "main") -> None:
        """A consistent copy of one file while the bot keeps running (SQLite's online backup
        API): the database, or an attached file such as the keys."""
        target.parent.mkdir(parents=True, exist_ok=True)

        def copy() -> None:
            dest = sqlite3.connect(target)
            try:
                self._conn.backup(dest, name=schema)
            finally:
                dest.close()

        async with self._lock:
            await self._in_thread(copy)

    async def _ensure_version_table(self) -> None:
        await self._run(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
        )
