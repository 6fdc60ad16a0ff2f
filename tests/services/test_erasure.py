"""Erasure at the level of SQLite's pages, without Telegram."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.core.crypto import ContentLocked
from bot.privacy.erasure import Erasure
from bot.privacy.repository import PersonalDataRepository


def varint(value: int) -> bytes:
    groups = []
    while True:
        groups.append(value & 0x7F)
        value >>= 7
        if not value:
            break
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


async def test_ids_left_as_b_tree_dividers_are_gone_after_compaction(db, clock, tmp_path):
    """With enough residents the table spans pages, and some deleted Telegram ids stay behind
    as dividers in the parent page; the retention pass's compaction rewrites them away."""
    # 1000 residents fill about a dozen leaf pages under one parent: dividers stay behind
    # (checked below, before the compaction) at a third of the time 3000 took.
    ids = [7_000_000_000 + i * 7919 for i in range(1000)]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO residents (user_id, chat_id, language) VALUES (?, ?, 'de')",
            [(i, i) for i in ids],
        )
    erasure = Erasure(PersonalDataRepository(db), db, None, clock, backup_days=30)
    gone = ids[::2]
    for user_id in gone:
        assert (await erasure.erase(user_id)).found
    path = tmp_path / "thinka.sqlite3"

    def left() -> list[int]:
        data = path.read_bytes()
        return [i for i in gone if varint(i) in data or i.to_bytes(6, "big") in data]

    assert left(), "no divider left: the test would prove nothing"
    assert await erasure.compact_if_due()
    assert left() == []
    assert (await db.fetchone("SELECT COUNT(*) FROM residents"))[0] == 500


async def test_updates_of_the_resident_still_waiting_in_the_inbox_go_with_them(db, clock):
    """A message written right after "delete my data", not handled yet: its payload (text,
    name, username) goes with the erasure; other people's waiting updates stay."""
    from bot.transport.inbox import InboxRepository, Received

    def update(update_id: int, user_id: int, text: str) -> Received:
        person = {"id": user_id, "is_bot": False, "first_name": f"P{user_id}"}
        chat = {"id": user_id, "type": "private", "first_name": f"P{user_id}"}
        message = {"message_id": 1, "date": 0, "chat": chat, "from": person, "text": text}
        data = {"update_id": update_id, "message": message}
        return Received(update_id, json.dumps(data), data)

    inbox = InboxRepository(db)
    await inbox.store([update(1, 42, "mein Geheimnis"), update(2, 43, "deins")], clock.now())
    await db.execute("INSERT INTO residents (user_id, chat_id, language) VALUES (42, 42, 'de')")
    erasure = Erasure(PersonalDataRepository(db), db, None, clock, backup_days=30)
    await erasure.erase(42)
    rows = await db.fetchall(
        "SELECT update_id, payload, done_at, state, chat_id FROM inbox ORDER BY update_id"
    )
    # Emptied, counted as handled, and no longer tied to their chat.
    assert rows[0][1] is None and rows[0][2] is not None
    assert rows[0][3] == "done" and rows[0][4] is None
    assert "deins" in rows[1][1] and rows[1][2] is None and rows[1][3] == "pending"


async def test_the_key_file_remembers_an_erasure_only_while_a_backup_may_hold_it(
    db, clock, tmp_path
):
    from cryptography.fernet import Fernet

    from bot.core.crypto import open_cipher

    cipher = await open_cipher(db, (Fernet.generate_key().decode(),), tmp_path / "keys.sqlite3")
    assert cipher.store is not None
    await db.execute("INSERT INTO residents (user_id, chat_id, language) VALUES (42, 42, 'de')")
    sealed = await cipher.seal_for(42, "mein Geheimnis")
    erasure = Erasure(PersonalDataRepository(db, cipher), db, cipher.store, clock, 30)
    await erasure.erase(42)
    assert await cipher.store.erased([41, 42, 43]) == {42}
    with pytest.raises(ContentLocked, match="erased"):
        await cipher.open_for(42, sealed)
    assert await erasure.forget_old_erasures(clock.now() + timedelta(days=36)) == 0
    assert await erasure.forget_old_erasures(clock.now() + timedelta(days=38)) == 1
    assert await cipher.store.erased([42]) == set()
