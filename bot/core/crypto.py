"""Message content at rest: Fernet (AES-128-CBC + HMAC-SHA256, from the cryptography package).

THINKA_ENCRYPTION_KEY holds one or more keys, comma-separated: the first encrypts, every one
decrypts, so a key is rotated by putting the new one first and running `python -m bot
rotate-key`, which re-encrypts every row with it; then the old key can be removed.
Without a key, content is stored in clear; an encrypted row read without the key raises
ContentLocked instead of showing garbage.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "enc1:"


class ContentLocked(Exception):
    """Encrypted content, but no key (or not the right one) to read it."""


class Cipher:
    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys]) if keys else None
        # Fingerprints are keyed with (a hash of) the first key: a bare hash of a short text ("ja",
        # a phone number) would give the text away to anyone who hashes guesses.
        self._digest_key = (
            hashlib.sha256(b"thinka-digest:" + keys[0].encode()).digest() if keys else None
        )

    def seal(self, text: str | None) -> str | None:
        if text is None or self._fernet is None:
            return text
        return PREFIX + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        if self._fernet is None:
            raise ContentLocked("this content is encrypted: set THINKA_ENCRYPTION_KEY")
        try:
            return self._fernet.decrypt(value[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ContentLocked("THINKA_ENCRYPTION_KEY does not open this content") from None

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
        if value is None or self._fernet is None:
            return value
        if value.startswith(PREFIX):
            token = self._fernet.rotate(value[len(PREFIX) :].encode("ascii"))
            return PREFIX + token.decode("ascii")
        return self.seal(value)
