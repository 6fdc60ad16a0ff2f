"""Every table and column of the database is accounted for in bot/privacy/datamap.py, and every
place that holds a resident's data is erased with them. A new table or column fails here until
somebody says what it holds and how it goes."""

from __future__ import annotations

import pytest

from bot.core.db import Database
from bot.core.keystore import KeyStore
from bot.privacy import datamap
from bot.privacy.repository import (
    CASE_ERASURE,
    MAIN_KEY_COLUMNS,
    RESIDENT_ERASURE,
    SEALED_COLUMNS,
    SENDER_ERASURE,
)

KINDS = {
    datamap.ID,
    datamap.NAME,
    datamap.CONTENT,
    datamap.FILE,
    datamap.ABOUT,
    datamap.KEPT,
    datamap.STAFF,
    datamap.LINK,
    datamap.TECHNICAL,
}


async def schema(db: Database, prefix: str = "") -> dict[str, list[str]]:
    tables = await db.fetchall(
        f"SELECT name FROM {prefix}sqlite_schema WHERE type = 'table'"
        " AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    return {
        name: [row[1] for row in await db.fetchall(f"PRAGMA {prefix}table_info({name})")]
        for (name,) in tables
    }


@pytest.fixture
async def migrated(tmp_path):
    db = await Database.open(tmp_path / "thinka.sqlite3")
    await db.migrate()
    yield db
    await db.close()


async def test_every_table_and_column_is_classified(migrated):
    actual = await schema(migrated)
    assert sorted(actual) == sorted(datamap.TABLES), "tables missing or gone from the data map"
    for table, columns in actual.items():
        mapped = datamap.TABLES[table].columns
        assert sorted(columns) == sorted(mapped), f"{table}: columns missing or gone"
        assert set(mapped.values()) <= KINDS, table
        assert datamap.TABLES[table].why, f"{table}: say what erasure does with its rows"


async def test_the_key_file_is_classified_too(migrated, tmp_path):
    from cryptography.fernet import Fernet, MultiFernet

    await KeyStore.open(
        migrated, tmp_path / "keys.sqlite3", MultiFernet([Fernet(Fernet.generate_key())])
    )
    actual = await schema(migrated, "keys.")
    personal = {t for t, c in actual.items() if "owner" in c}
    assert personal == set(datamap.KEY_FILE_TABLES)
    for table in personal:
        assert sorted(actual[table]) == sorted(datamap.KEY_FILE_TABLES[table].columns)


def test_every_table_with_a_residents_data_has_its_erasure_step():
    resident_steps = {table for table, _ in RESIDENT_ERASURE}
    case_steps = {table for table, _ in CASE_ERASURE}
    for name, table in datamap.TABLES.items():
        personal = set(table.columns.values()) & datamap.PERSONAL
        if datamap.RESIDENT in table.erased:
            assert name in resident_steps, f"{name}: no step in RESIDENT_ERASURE"
        if datamap.CASE in table.erased:
            assert name in case_steps, f"{name}: no step in CASE_ERASURE"
        if datamap.SENDER in table.erased:
            senders = {step[0] for step in SENDER_ERASURE}
            assert name in senders, f"{name}: no step for its senders"
        if personal:
            assert table.erased - {datamap.NOTHING}, f"{name} holds {personal}: how does it go?"
        else:
            assert table.erased == {datamap.NOTHING}, f"{name}: erased, but holds nothing?"
        for step in resident_steps | case_steps:
            assert step in datamap.TABLES, f"a step for {step}, which the map does not know"


def test_every_name_and_content_column_is_sealed_at_rest():
    sealed = {(table, column) for table, _key, column, _owner in SEALED_COLUMNS}
    sealed |= {(table, column) for table, _key, column in MAIN_KEY_COLUMNS}
    wanted = {
        (name, column)
        for name, table in datamap.TABLES.items()
        for column, kind in table.columns.items()
        if kind in datamap.SEALED
    }
    assert sealed == wanted
