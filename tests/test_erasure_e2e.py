"""Delete means gone, to the byte (issue 14, findings 1 and 2).

A resident with a distinctive id, name and username books an appointment with a note, writes,
gets an answer, an internal note and an announcement, and writes something alarming. Then the
files the bot writes are searched byte by byte: the database, its WAL and shared memory, the key
file, the log (the bot's own guarded handler, at DEBUG) and the backups."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import SERVICES_KEY, running
from bot.core.crypto import ContentLocked, open_cipher
from bot.core.db import Database
from bot.core.logs import guarded_handler
from bot.privacy import datamap
from bot.privacy.backups import KEYS_NAME, write_backup
from tests.conftest import ADMIN_ID, Chat, eventually, make_application
from tests.test_appointments_e2e import WEEKDAYS, book

RESIDENT_ID = 7_123_456_789
NAMES = ("Zyxwana", "Ubelkova", "zyxwana_rieth")  # first name, last name, username
TEXTS = (
    "Mietschulden bei Frau Qwertzuiop",  # the request
    "Notiz Wertyuiop",  # the appointment's note
    "Antwort Plmoknijb",  # the social worker's answer
    "Intern Uhbygvtfc",  # an internal note
    "Kopie Ijnbhuzg",  # a note as a photo's caption
    "ich will nicht mehr leben, sagt Okmijn",  # signs of danger
)
STAFF_ID = 700_001


def varint(value: int) -> bytes:
    """SQLite's variable-length integer: how a rowid stands in a b-tree cell."""
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7
        if not value:
            break
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def id_bytes(user_id: int) -> list[bytes]:
    """The id as text (logs, JSON), as SQLite stores an integer in a record (big-endian, the
    smallest of 1, 2, 3, 4, 6 or 8 bytes) and as a rowid (varint)."""
    size = next(n for n in (1, 2, 3, 4, 6, 8) if user_id < 2 ** (8 * n - 1))
    return [str(user_id).encode(), user_id.to_bytes(size, "big"), varint(user_id)]


CLEAR = {text: text.encode() for text in TEXTS + NAMES}
IDS = dict(zip(("id as text", "id as record", "id as rowid"), id_bytes(RESIDENT_ID), strict=True))
NEEDLES = CLEAR | IDS


def found_in(folder: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """Which needles are in which file under `folder` (every file, whatever its name)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        hits = [name for name, needle in needles.items() if needle in data]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def restore(copy: Path, db_path: Path) -> None:
    """What an operator does: the copy in place of the database (its WAL gone with it)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, db_path)


@pytest.fixture
def org_file(tmp_path):
    from bot.core.config import BUNDLED_CONFIG

    path = tmp_path / "org.toml"
    path.write_text(
        BUNDLED_CONFIG.read_text("utf-8").replace("hours = []", f"hours = [{WEEKDAYS}]"), "utf-8"
    )
    return path


@pytest.fixture
def group(sandbox):
    sandbox.add_user(first_name="Svetlana", language_code="de", user_id=STAFF_ID)
    return sandbox.add_group(
        title="Team", kind="supergroup", is_forum=True, members={STAFF_ID: "administrator"}
    )


@pytest.fixture
def log_file(tmp_path):
    """The bot's log as an operator keeps it: the guarded handler, at DEBUG, into a file."""
    path = tmp_path / "bot.log"
    with path.open("w", encoding="utf-8") as stream:
        handler = guarded_handler(stream)
        logging.getLogger().addHandler(handler)
        try:
            yield path
        finally:
            logging.getLogger().removeHandler(handler)


@pytest.fixture(params=["with THINKA_ENCRYPTION_KEY", "without a key"])
def world(request, settings, group, org_file, log_file):
    keys = (Fernet.generate_key().decode(),) if request.param.startswith("with") else ()
    return replace(settings, staff_chat_id=group.id, config_path=org_file, encryption_keys=keys)


async def live_a_case(sandbox, services, group) -> Chat:
    """Everything a resident leaves behind, in every table that can hold it."""
    user = sandbox.add_user(
        first_name=NAMES[0],
        last_name=NAMES[1],
        username=NAMES[2],
        language_code="de",
        user_id=RESIDENT_ID,
    )
    chat = Chat(sandbox, user)
    await book(services, chat, note=TEXTS[1])
    await services.events.subscribe(RESIDENT_ID, {"Rieth"})
    await sandbox.send_message(user, TEXTS[0])
    await sandbox.wait_for_idle()

    async def topic():
        case = await services.cases.current_open_case(await services.residents.find(user.id))
        return case.thread_id if case else None

    thread = await eventually(topic)
    where = {"chat": group, "message_thread_id": thread}
    await sandbox.send_message(STAFF_ID, TEXTS[2], **where)
    await sandbox.send_message(STAFF_ID, f"/note {TEXTS[3]}", **where)
    await sandbox.send_photo(STAFF_ID, caption=f"/note {TEXTS[4]}", **where)
    await sandbox.send_message(user, TEXTS[5])
    await services.events.notice({"de": "Büro heute geschlossen"}, ("Rieth",), ADMIN_ID)
    await sandbox.wait_for_idle()
    return chat


async def test_with_the_key_set_nothing_of_a_resident_is_in_clear_and_mydata_reads_it(
    sandbox, settings, group, org_file, clock, tmp_path
):
    """Finding 2: with THINKA_ENCRYPTION_KEY, /mydata gave ciphertext and first names were
    stored in clear."""
    keyed = replace(
        settings,
        staff_chat_id=group.id,
        config_path=org_file,
        encryption_keys=(Fernet.generate_key().decode(),),
    )
    async with running(make_application(keyed, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        chat = await live_a_case(sandbox, services, group)
        # Every name and content column of the data map holds sealed values only.
        for table, mapped in datamap.TABLES.items():
            for column, kind in mapped.columns.items():
                if kind in datamap.SEALED:
                    rows = await services.db.fetchall(
                        f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
                    )
                    assert all(row[0].startswith(("enc1:", "enc2:")) for row in rows), table
        seen = chat.seen()
        await sandbox.send_message(chat.user, "/mydata")
        await sandbox.wait_for_idle()
        document = next(m for m in sandbox.messages_to(chat.id)[seen:] if m.kind == "document")
        mine = json.loads(sandbox.file_content(document.raw["document"]["file_id"]))
    words = json.dumps(mine, ensure_ascii=False)
    assert NAMES[0] in words and TEXTS[0] in words and TEXTS[1] in words and TEXTS[2] in words
    assert "enc1:" not in words and "enc2:" not in words
    assert TEXTS[3] not in words  # internal notes are not the resident's to read
    # Database, WAL, key file: no text and no name in clear (the id is a key: it stays until
    # the resident erases their data).
    assert (tmp_path / "thinka-keys.sqlite3").exists()
    assert found_in(tmp_path, CLEAR) == {}


async def test_erasure_leaves_nothing_in_the_database_wal_key_file_or_log(
    sandbox, world, clock, tmp_path, log_file
):
    """Finding 1: the checkpoint after an erasure was busy whenever another connection read,
    so name, username and id stayed in the WAL; deliveries kept ids; the log kept the id."""
    async with running(make_application(world, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        chat = await live_a_case(sandbox, services, group=sandbox.chats[world.staff_chat_id])
        assert found_in(tmp_path, NEEDLES)  # the search looks in the right places
        counted = "SELECT (SELECT COUNT(*) FROM outgoing WHERE batch_id IS NOT NULL"
        counted += " AND status = 'sent'),"
        counted += " (SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM cases)"
        figures = tuple(await services.db.fetchone(counted))
        assert figures[0] == 1 and figures[1] >= 2  # delivered once; answered and noted
        # Another connection reads while the resident erases (a backup, an operator).
        reader = sqlite3.connect(world.db_path)
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM residents").fetchone()
        question = await chat.send("/delete")
        await chat.press_data(question, "privacy:delete:yes")
        assert services.erasure.pending  # said so, not ignored
        reader.rollback()
        reader.close()

        async def finished():
            return not services.erasure.pending

        await eventually(finished, within=20)  # the bot's job empties the WAL
        assert await services.residents.find(RESIDENT_ID) is None
        # The announcement stays counted, the case too, the staff's audit entries stay.
        assert tuple(await services.db.fetchone(counted)) == figures
        # While the bot runs on: the database, its WAL, the key file, the log.
        assert found_in(tmp_path, NEEDLES) == {}, "left behind after erasure"
    assert found_in(tmp_path, NEEDLES) == {}, "left behind after erasure and shutdown"
    assert log_file.stat().st_size > 0


async def test_without_a_key_a_backup_holds_everything_in_clear(
    sandbox, settings, group, org_file, clock, tmp_path
):
    """What the README says of backups without THINKA_ENCRYPTION_KEY, shown."""
    plain = replace(settings, staff_chat_id=group.id, config_path=org_file)
    async with running(make_application(plain, clock)) as application:
        await live_a_case(sandbox, application.bot_data[SERVICES_KEY], group)
        db = await Database.open(plain.db_path)
        try:
            await write_backup(db, tmp_path / "backups", plain.backup_days, now=clock.now())
        finally:
            await db.close()
    assert set(next(iter(found_in(tmp_path / "backups", CLEAR).values()))) >= set(TEXTS[:3])


async def test_backups_hold_nothing_readable_after_erasure_and_a_restore_erases_again(
    sandbox, settings, group, org_file, clock, tmp_path
):
    keyed = replace(
        settings,
        staff_chat_id=group.id,
        config_path=org_file,
        encryption_keys=(Fernet.generate_key().decode(),),
    )
    backups = tmp_path / "backups"

    async def backup(now):  # as `python -m bot backup` does it, from another connection
        db = await Database.open(keyed.db_path)
        try:
            await db.attach(keyed.keys_path, "keys")
            return await write_backup(db, backups, keyed.backup_days, now=now)
        finally:
            await db.close()

    async with running(make_application(keyed, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        chat = await live_a_case(sandbox, services, group)
        await backup(clock.now())
        question = await chat.send("/delete")
        await chat.press_data(question, "privacy:delete:yes")
        await backup(clock.now() + timedelta(days=1))
    (before, after) = sorted(backups.glob("thinka-2*.sqlite3"))
    # The copy from before the erasure holds the resident's rows, sealed ...
    assert found_in(backups, CLEAR) == {}
    with sqlite3.connect(before) as raw:
        sealed = raw.execute("SELECT text FROM case_messages").fetchall()
    assert sealed and all(row[0].startswith("enc2:") for row in sealed)
    # ... which nothing in the backup folder opens any more: the key copy has no key for them.
    with sqlite3.connect(backups / KEYS_NAME) as raw:
        assert raw.execute("SELECT owner FROM resident_keys").fetchall() == []
    copy = await Database.open(before)
    try:
        cipher = await open_cipher(copy, keyed.encryption_keys, backups / KEYS_NAME)
        with pytest.raises(ContentLocked, match="erased"):
            await cipher.open_for(RESIDENT_ID, sealed[0][0])
    finally:
        await copy.close()
    # Only their id stays in that copy, in clear, until the copy is deleted.
    assert found_in(backups, {"id": IDS["id as record"]}) == {before.name: ["id"]}
    # A restore of the older copy erases them again at start-up.
    restore(before, keyed.db_path)
    async with running(make_application(keyed, clock)) as application:
        services = application.bot_data[SERVICES_KEY]
        assert await services.residents.find(RESIDENT_ID) is None
    live = {p.name: found_in(tmp_path, NEEDLES).get(p.name) for p in tmp_path.glob("thinka*")}
    assert live == {name: None for name in live} and "thinka.sqlite3" in live
    # Copies older than THINKA_BACKUP_DAYS go at the next backup.
    await backup(clock.now() + timedelta(days=keyed.backup_days, hours=12))
    assert not before.exists() and after.exists()
