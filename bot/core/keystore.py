"""Each resident's own data key, in a file of its own (crypto-shredding).

With THINKA_ENCRYPTION_KEY set, what a resident wrote and what they are called is sealed with a
key of that resident (bot/core/crypto.py, `Cipher.seal_for`). Those keys live here, in the key
file (THINKA_KEYS_DB, by default next to the database), each wrapped with THINKA_ENCRYPTION_KEY.
The file is attached to the database's connection as schema `keys`, but it is a file of its own:
`python -m bot backup` copies the database to dated files and keeps only the newest copy of this
one. Erasing a resident deletes their key (`forget`), so every copy of the database, every
backup included, holds nothing readable of them any more.

A backup restored after an erasure would bring the erased resident's rows back (their ids, and
content nobody can read any more). So the key file also remembers erasures (`erased`), for as
long as a backup may hold the resident: not their id, but a tag, an HMAC of it under a key of
its own that is wrapped like the resident keys. At start-up bot/privacy/erasure.py erases again
every resident whose tag is there. Rotating THINKA_ENCRYPTION_KEY re-wraps the keys (`rewrap`);
the data sealed with them stays as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.core.db import Database, Transaction

SCHEMA = "keys"
# Keys unwrapped in memory, most recently used last (a Fernet object per resident).
CACHED = 4096


class KeysLocked(Exception):
    """The key file cannot be opened with THINKA_ENCRYPTION_KEY."""


class KeyStore:
    def __init__(self, db: Database, master: MultiFernet, tag_key: bytes) -> None:
        self._db = db
        self._master = master
        self._tag_key = tag_key
        self._cache: OrderedDict[int, Fernet] = OrderedDict()

    @classmethod
    async def open(cls, db: Database, path: Path, master: MultiFernet) -> KeyStore:
        """Attach the key file (made on first use) to the database's connection."""
        await db.attach(path, SCHEMA)
        for table in (
            # The resident's Telegram id, and their Fernet key wrapped with the main key.
            "resident_keys (owner INTEGER PRIMARY KEY, key TEXT NOT NULL)",
            # Residents erased lately, as HMAC tags (see the module's docstring).
            "erased (tag TEXT PRIMARY KEY, erased_at TEXT NOT NULL)",
            # The tag key, wrapped like the resident keys.
            "about (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ):
            await db.execute(f"CREATE TABLE IF NOT EXISTS keys.{table}")
        await db.execute(
            "INSERT OR IGNORE INTO keys.about (name, value) VALUES ('tag key', ?)",
            (master.encrypt(secrets.token_bytes(32)).decode("ascii"),),
        )
        row = await db.fetchone("SELECT value FROM keys.about WHERE name = 'tag key'")
        try:
            tag_key = master.decrypt(row[0].encode("ascii"))
        except InvalidToken:
            raise KeysLocked("THINKA_ENCRYPTION_KEY does not open the key file") from None
        return cls(db, master, tag_key)

    async def key(self, owner: int, *, create: bool = False) -> Fernet | None:
        """The owner's key; made (and stored) first when `create` and there is none."""
        cached = self._cache.get(owner)
        if cached is not None:
            self._cache.move_to_end(owner)
            return cached
        row = await self._db.fetchone(
            "SELECT key FROM keys.resident_keys WHERE owner = ?", (owner,)
        )
        if row is None:
            if not create:
                return None
            await self._db.execute(
                "INSERT OR IGNORE INTO keys.resident_keys (owner, key) VALUES (?, ?)",
                (owner, self._wrap(Fernet.generate_key())),
            )
            # Another task may have made it first: read back the one that counts.
            row = await self._db.fetchone(
                "SELECT key FROM keys.resident_keys WHERE owner = ?", (owner,)
            )
        fernet = Fernet(self._unwrap(row[0]))
        self._cache[owner] = fernet
        while len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return fernet

    async def forget(self, tx: Transaction, owner: int, now: datetime) -> None:
        """Inside the erasure's transaction: the resident's key goes, and with it everything
        sealed with it; the erasure is remembered by its tag."""
        self._cache.pop(owner, None)
        await tx.execute("DELETE FROM keys.resident_keys WHERE owner = ?", (owner,))
        await tx.execute(
            "INSERT OR REPLACE INTO keys.erased (tag, erased_at) VALUES (?, ?)",
            (self._tag(owner), now.astimezone(UTC).isoformat()),
        )

    async def erased(self, owners: Iterable[int]) -> set[int]:
        """Which of `owners` were erased (lately): a restored backup brought them back."""
        tags = {row[0] for row in await self._db.fetchall("SELECT tag FROM keys.erased")}
        return {owner for owner in owners if self._tag(owner) in tags} if tags else set()

    async def forget_erasures_before(self, moment: datetime) -> int:
        """Erasures older than any backup that could hold the resident need no tag any more."""
        return await self._db.execute(
            "DELETE FROM keys.erased WHERE erased_at < ?", (moment.astimezone(UTC).isoformat(),)
        )

    def _tag(self, owner: int) -> str:
        return hmac.new(self._tag_key, str(owner).encode(), hashlib.sha256).hexdigest()

    async def rewrap(self, master: MultiFernet) -> int:
        """Wrap every key (and the tag key) with the first of the given keys (key rotation)."""
        rows = await self._db.fetchall("SELECT owner, key FROM keys.resident_keys")
        about = await self._db.fetchall("SELECT name, value FROM keys.about")
        try:
            keys = [(_rotate(master, wrapped), owner) for owner, wrapped in rows]
            named = [(_rotate(master, wrapped), name) for name, wrapped in about]
        except InvalidToken:
            raise KeysLocked("THINKA_ENCRYPTION_KEY does not open the key file") from None
        async with self._db.transaction() as tx:
            await tx.executemany("UPDATE keys.resident_keys SET key = ? WHERE owner = ?", keys)
            await tx.executemany("UPDATE keys.about SET value = ? WHERE name = ?", named)
        self._master = master
        return len(rows)

    def _wrap(self, key: bytes) -> str:
        return self._master.encrypt(key).decode("ascii")

    def _unwrap(self, wrapped: str) -> bytes:
        try:
            return self._master.decrypt(wrapped.encode("ascii"))
        except InvalidToken:
            raise KeysLocked("THINKA_ENCRYPTION_KEY does not open the key file") from None


def _rotate(master: MultiFernet, wrapped: str) -> str:
    return master.rotate(wrapped.encode("ascii")).decode("ascii")
