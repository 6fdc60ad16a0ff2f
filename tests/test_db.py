"""Storage: WAL and foreign keys, ordered migrations recorded in schema_version, atomic failure."""

from __future__ import annotations

import sqlite3

import pytest

from bot.core.db import Database, Migration, MigrationError, load_migrations


async def test_connection_uses_wal_and_foreign_keys(tmp_path):
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    finally:
        await db.close()


async def test_shipped_migrations_apply_in_order_once(tmp_path):
    shipped = load_migrations()
    assert [m.version for m in shipped] == sorted(m.version for m in shipped)
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        applied = await db.migrate()
        assert [m.name for m in applied] == [m.name for m in shipped]
        assert await db.schema_version() == shipped[-1].version
        assert await db.migrate() == []  # idempotent
        rows = await db.fetchall("SELECT version, name FROM schema_version ORDER BY version")
        assert [(r[0], r[1]) for r in rows] == [(m.version, m.name) for m in shipped]
    finally:
        await db.close()


async def test_failed_migration_leaves_the_database_as_it_was(tmp_path):
    path = tmp_path / "t.sqlite3"
    db = await Database.open(path)
    good = Migration(1, "0001_good.sql", "CREATE TABLE a (x INTEGER);")
    # The second statement fails after the first succeeded: both must be undone.
    bad = Migration(2, "0002_bad.sql", "CREATE TABLE b (y INTEGER);\nINSERT INTO nope VALUES (1);")
    try:
        await db.migrate([good])
        with pytest.raises(MigrationError, match=r"0002_bad\.sql failed: no such table: nope"):
            await db.migrate([good, bad])
        assert await db.schema_version() == 1
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "a" in tables and "b" not in tables
        # The connection is usable afterwards (no transaction left open).
        await db.execute("INSERT INTO a VALUES (1)")
    finally:
        await db.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM a").fetchone()[0] == 1


async def test_a_migration_merged_after_a_higher_one_is_still_applied(tmp_path):
    """Branches land in any order: a database at 0014 must still get a 0012 merged later."""
    db = await Database.open(tmp_path / "t.sqlite3")
    early = Migration(12, "0012_early.sql", "CREATE TABLE early (x INTEGER);")
    later = Migration(14, "0014_later.sql", "CREATE TABLE later (x INTEGER);")
    try:
        assert await db.migrate([later]) == [later]
        assert await db.migrate([early, later]) == [early]
        assert await db.migrate([early, later]) == []
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert {"early", "later"} <= tables
    finally:
        await db.close()


async def test_a_table_rebuilt_after_later_migrations_keeps_the_rows_that_reference_it(tmp_path):
    """Found merging the delivery work: 0010 rebuilds case_messages, and on a database that
    already had 0013 and 0014 its DROP TABLE deleted every translation and letter page through
    ON DELETE CASCADE. The real files, in the order a running installation got them."""
    shipped = {m.version: m for m in load_migrations()}
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        # What main had before the delivery work landed: 0001-0009, 0012-0014.
        await db.migrate([m for v, m in shipped.items() if v < 10 or 12 <= v <= 14])
        await db.execute("INSERT INTO residents (user_id, chat_id, language) VALUES (1, 1, 'ar')")
        await db.execute(
            "INSERT INTO cases (id, resident_id, status, language, created_at)"
            " VALUES (1, 1, 'new', 'ar', '2026-12-01')"
        )
        await db.execute(
            "INSERT INTO case_messages (id, case_id, direction, sender_id, kind, text,"
            " source_chat_id, source_message_id, relay_status, created_at)"
            " VALUES (1, 1, 'in', 1, 'text', 'سؤال', 1, 1, 'sent', '2026-12-01')"
        )
        await db.execute(
            "INSERT INTO message_translations (message_id, case_id, source, target, provider,"
            " digest, text, created_at)"
            " VALUES (1, 1, 'ar', 'de', 'libretranslate', 'd', 'Frage', '2026-12-01')"
        )
        applied = await db.migrate(list(shipped.values()))
        assert applied[0].version == 10
        assert await db.fetchall("SELECT text FROM message_translations") != []
        assert tuple(await db.fetchone("PRAGMA foreign_keys")) == (1,)  # on again afterwards
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(tmp_path):
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("boom")
        assert (await db.fetchone("SELECT COUNT(*) FROM t"))[0] == 0
    finally:
        await db.close()


def test_migration_files_are_named_for_ordering(tmp_path):
    (tmp_path / "1_bad name.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"not named NNNN_name\.sql"):
        load_migrations(tmp_path)


async def test_backup_is_a_consistent_copy(tmp_path):
    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        await db.migrate()
        await db.execute("INSERT INTO residents (user_id, chat_id, language) VALUES (1, 1, 'ar')")
        await db.backup(tmp_path / "copy.sqlite3")
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "copy.sqlite3") as raw:
        assert raw.execute("SELECT language FROM residents").fetchone() == ("ar",)


async def test_a_checkpoint_another_reader_blocks_is_reported_and_done_later(tmp_path):
    """After an erasure the WAL must be emptied; while another connection reads, SQLite cannot
    do that, and the database says so instead of ignoring it."""
    db = await Database.open(tmp_path / "t.sqlite3")
    wal = tmp_path / "t.sqlite3-wal"
    try:
        await db.execute("CREATE TABLE t (x TEXT)")
        await db.execute("INSERT INTO t VALUES ('erased text')")
        reader = sqlite3.connect(tmp_path / "t.sqlite3")
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM t").fetchone()
        await db.execute("DELETE FROM t")
        assert not await db.checkpoint() and db.checkpoint_pending
        assert wal.stat().st_size > 0
        reader.rollback()
        reader.close()
        assert await db.checkpoint() and not db.checkpoint_pending
        assert wal.stat().st_size == 0
        assert b"erased text" not in (tmp_path / "t.sqlite3").read_bytes()
    finally:
        await db.close()


async def test_short_statements_run_on_the_loop_thread_long_work_on_a_worker(tmp_path):
    """Issue 18: a thread hop per statement was most of an update's cost. A short statement
    runs where it is awaited; a slow one, or every statement inside `off_loop()`, does not."""
    import threading

    db = await Database.open(tmp_path / "t.sqlite3")
    try:
        db._conn.create_function("thread_id", 0, threading.get_ident)
        here = threading.get_ident()
        assert (await db.fetchone("SELECT thread_id()"))[0] == here
        async with db.transaction() as tx:
            assert (await tx.fetchone("SELECT thread_id()"))[0] == here
        assert (await db.fetchone("SELECT thread_id()", slow=True))[0] != here
        with db.off_loop():
            assert (await db.fetchall("SELECT thread_id()"))[0][0] != here
        assert (await db.fetchone("SELECT thread_id()"))[0] == here
        # A write outside a transaction commits, and a commit waits for the disk (FULL sync):
        # on a worker thread, as is the COMMIT of a transaction.
        await db.execute("CREATE TABLE t (x INTEGER)")
        await db.execute("INSERT INTO t VALUES (thread_id())")
        assert (await db.fetchone("SELECT x FROM t"))[0] != here
    finally:
        await db.close()


async def test_a_file_locked_by_another_process_is_waited_for_off_the_loop(tmp_path):
    """The loop's busy timeout is 0: a write that finds another connection's lock waits on a
    worker thread (up to the busy timeout), and the loop keeps serving meanwhile."""
    import asyncio

    path = tmp_path / "t.sqlite3"
    db = await Database.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.create_task(db.execute("INSERT INTO t VALUES (1)"))
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.02)  # the loop is not blocked by the waiting write
            ticks += 1
        assert ticks == 5 and not write.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(write, 5) == 1
        assert (await db.fetchone("SELECT COUNT(*) FROM t"))[0] == 1
    finally:
        other.close()
        await db.close()
