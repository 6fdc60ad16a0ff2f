"""Content at rest: Fernet (AES-128-CBC + HMAC-SHA256, from the cryptography package).

THINKA_ENCRYPTION_KEY holds one or more keys, comma-separated: the first encrypts, every one
decrypts, so a key is rotated by putting the new one first and running `python -m bot
rotate-key`; then the old key can be removed. Without a key, content is stored in clear; an
encrypted value read without the key raises ContentLocked instead of showing garbage.

Two kinds of sealed value:
- "enc2:" — sealed with the key of the resident it belongs to (`seal_for`/`open_for`): what
  residents wrote and what staff wrote in their case, their names and notes. The resident keys
  live in the key file (bot/core/keystore.py), wrapped with THINKA_ENCRYPTION_KEY; erasing a
  resident deletes their key, and with it every copy of their data, backups included.
- "enc1:" — sealed with THINKA_ENCRYPTION_KEY itself (`seal`/`open`): what belongs to no
  resident yet, such as an update waiting in the inbox (and values from before resident keys).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.core.db import Database
from bot.core.keystore import KeysLocked, KeyStore

PREFIX = "enc1:"
OWN_PREFIX = "enc2:"


class ContentLocked(Exception):
    """Encrypted content, but no key (or not the right one) to read it."""


class Cipher:
    def __init__(self, keys: tuple[str, ...] = (), store: KeyStore | None = None) -> None:
        self.master = MultiFernet([Fernet(key.encode()) for key in keys]) if keys else None
        self.store = store if self.master is not None else None
        # Fingerprints are keyed with (a hash of) the first key: a bare hash of a short text ("ja",
        # a phone number) would give the text away to anyone who hashes guesses.
        self._digest_key = (
            hashlib.sha256(b"thinka-digest:" + keys[0].encode()).digest() if keys else None
        )

    # -- the main key --------------------------------------------------------------------------
    def seal(self, text: str | None) -> str | None:
        if text is None or self.master is None:
            return text
        return PREFIX + self.master.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            if value is not None and value.startswith(OWN_PREFIX):
                raise ContentLocked("this content is sealed with a resident's key")
            return value
        if self.master is None:
            raise ContentLocked("this content is encrypted: set THINKA_ENCRYPTION_KEY")
        return _decrypt(self.master, value[len(PREFIX) :])

    def digest(self, text: str) -> str:
        """A fingerprint of `text` to find identical content (the translation cache) without
        storing or comparing the text itself. Keyed when there is a key; plain SHA-256 when
        content is stored in clear anyway. Changes with a key rotation (the cache then misses
        once)."""
        data = text.encode("utf-8")
        if self._digest_key is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._digest_key, data, hashlib.sha256).hexdigest()

    def rotate(self, value: str | None) -> str | None:
        """Re-encrypt with the first key (clear text gets encrypted too)."""
        if value is None or self.master is None:
            return value
        if value.startswith(PREFIX):
            token = self.master.rotate(value[len(PREFIX) :].encode("ascii"))
            return PREFIX + token.decode("ascii")
        return self.seal(value)

    # -- a resident's key ------------------------------------------------------------------------
    async def seal_for(self, owner: int | None, text: str | None) -> str | None:
        """Seal what belongs to resident `owner` with their key (made on first use). Without
        an owner (a case whose resident is erased) the main key seals it."""
        if text is None or self.master is None:
            return text
        if owner is None or self.store is None:
            return self.seal(text)
        key = await self.store.key(owner, create=True)
        assert key is not None
        return OWN_PREFIX + key.encrypt(text.encode("utf-8")).decode("ascii")

    async def open_for(self, owner: int | None, value: str | None) -> str | None:
        if value is None or not value.startswith(OWN_PREFIX):
            return self.open(value)
        if self.master is None or self.store is None:
            raise ContentLocked("this content is encrypted: set THINKA_ENCRYPTION_KEY")
        try:
            key = await self.store.key(owner) if owner is not None else None
        except KeysLocked as error:
            raise ContentLocked(str(error)) from None
        if key is None:
            raise ContentLocked("the resident's key is gone: their data was erased")
        return _decrypt(MultiFernet([key]), value[len(OWN_PREFIX) :])

    async def reseal_for(self, owner: int | None, value: str | None) -> str | None:
        """Whatever `value` is (clear, main key, resident key): sealed with the owner's key."""
        return await self.seal_for(owner, await self.open_for(owner, value))


def _decrypt(fernet: MultiFernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ContentLocked("THINKA_ENCRYPTION_KEY does not open this content") from None


async def open_cipher(db: Database, keys: tuple[str, ...], keys_path: Path) -> Cipher:
    """The cipher of a running bot: with THINKA_ENCRYPTION_KEY (`keys`), residents' data is
    sealed with their own keys, kept in the key file at `keys_path` (attached to `db`);
    without it, everything is stored in clear."""
    if not keys:
        return Cipher()
    master = Cipher(keys).master
    assert master is not None
    return Cipher(keys, await KeyStore.open(db, keys_path, master))
