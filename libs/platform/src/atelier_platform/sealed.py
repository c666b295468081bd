"""Sealed boxes: a short secret only the holder of one private key can read.

X25519 with an ephemeral key, HKDF-SHA256, AES-256-GCM. The sender needs only the recipient's
public key; the box names its purpose (bound as associated data), so a box sealed for one use
cannot be replayed as another. A box is text: URL-safe base64 of ephemeral key, nonce, ciphertext.

A `Sealer` keeps its ephemeral key for `KEY_REUSE_SECONDS`, each box with its own random nonce:
the two key agreements a fresh key costs were the dearest step of a registration. The key lives
only in the sealing process's memory, which sees the secrets in clear anyway (docs/adr/0007).
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEY_BYTES = 32
NONCE_BYTES = 12
# Longest box accepted: a manage link or a token is far shorter; anything longer is not ours.
MAX_BOX_CHARS = 2000
KEY_REUSE_SECONDS = 60.0


class Unsealable(Exception):
    """Not a box, sealed for another key or purpose, or altered."""


def _key_bytes(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"{what} must be the base64 of {KEY_BYTES} bytes, not {len(raw)}")
    return raw


@functools.lru_cache(maxsize=8)
def private_key(text: str) -> X25519PrivateKey:
    """A private key from the base64 of its 32 bytes (raises ValueError, never echoing the value).

    The same object for the same text: keys compare by identity, so the opening cache below works only
    for a key read once, not once per box."""
    return X25519PrivateKey.from_private_bytes(_key_bytes(text, "the private key"))


def public_key(text: str) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(_key_bytes(text, "the public key"))


def public_key_text(key: X25519PrivateKey) -> str:
    """The base64 public key to give the senders of boxes for `key`."""
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def new_private_key_text() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def _aead(shared: bytes, ephemeral: bytes, recipient: bytes, purpose: str) -> AESGCM:
    info = b"atelier sealed box v1|" + purpose.encode() + b"|" + ephemeral + recipient
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared))


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class Sealer:
    """Seals boxes for one recipient and purpose; a new ephemeral key every `reuse_seconds`."""

    def __init__(
        self,
        recipient: X25519PublicKey,
        purpose: str,
        reuse_seconds: float = KEY_REUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._recipient, self._purpose = recipient, purpose
        self._reuse_seconds, self._clock = reuse_seconds, clock
        self._expires = -float("inf")
        self._ephemeral_raw = b""
        self._box_aead: AESGCM | None = None

    def seal(self, secret: str) -> str:
        now = self._clock()
        if self._box_aead is None or now >= self._expires:
            ephemeral = X25519PrivateKey.generate()
            self._ephemeral_raw = _raw(ephemeral.public_key())
            shared = ephemeral.exchange(self._recipient)
            self._box_aead = _aead(shared, self._ephemeral_raw, _raw(self._recipient), self._purpose)
            self._expires = now + self._reuse_seconds
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._box_aead.encrypt(nonce, secret.encode(), self._purpose.encode())
        return base64.urlsafe_b64encode(self._ephemeral_raw + nonce + sealed).decode().rstrip("=")


def seal(recipient: X25519PublicKey, purpose: str, secret: str) -> str:
    """One box with a key of its own."""
    return Sealer(recipient, purpose, reuse_seconds=0).seal(secret)


@functools.lru_cache(maxsize=64)  # boxes sealed together share an ephemeral key: agree on it once
def _opening_aead(key: X25519PrivateKey, ephemeral_raw: bytes, purpose: str) -> AESGCM:
    shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral_raw))
    return _aead(shared, ephemeral_raw, _raw(key.public_key()), purpose)


def open_box(key: X25519PrivateKey, purpose: str, box: str) -> str:
    """The secret in `box`; raises Unsealable."""
    if len(box) > MAX_BOX_CHARS:
        raise Unsealable("too long to be a box")
    try:
        raw = base64.urlsafe_b64decode(box + "=" * (-len(box) % 4))
    except (binascii.Error, ValueError):
        raise Unsealable("not base64") from None
    if len(raw) < KEY_BYTES + NONCE_BYTES + 16:
        raise Unsealable("too short to be a box")
    ephemeral_raw, nonce, sealed = (
        raw[:KEY_BYTES],
        raw[KEY_BYTES : KEY_BYTES + NONCE_BYTES],
        raw[KEY_BYTES + NONCE_BYTES :],
    )
    try:
        plain = _opening_aead(key, ephemeral_raw, purpose).decrypt(nonce, sealed, purpose.encode())
        return plain.decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise Unsealable("sealed for another key or purpose, or altered") from None
