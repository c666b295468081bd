"""The voucher's QR payload, signed with Ed25519 so a scanner can check it offline.

    ATV1.<facts>.<signature>

`facts` is base64url (no padding) of compact JSON {"k": key id, "c": code, "d": valid_on,
"o": origin station id, "h": holder name}; `signature` is base64url of the Ed25519 signature
of the ASCII text "ATV1.<facts>". The public key is published at GET /keys under its key id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "ATV1"


class InvalidQrPayload(ValueError):
    """Not one of our payloads, or not signed by the key it was checked with."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    # Strict: the decoder would skip foreign characters and ignore spare bits, so two texts
    # could carry one signature; only the one canonical spelling is accepted.
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidQrPayload("not base64url") from exc
    if _b64url(raw) != text:
        raise InvalidQrPayload("not canonical base64url")
    return raw


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """Short, stable name of a public key, so scanners can hold more than one during a rotation."""
    return _b64url(hashlib.sha256(raw_public_key(key)).digest())[:11]


class VoucherSigner:
    def __init__(self, seed: bytes) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._private.public_key()
        self.key_id = key_id(self.public_key)

    def qr_payload(self, *, code: str, valid_on: date, origin_station_id: str, holder_name: str) -> str:
        facts = {"k": self.key_id, "c": code, "d": valid_on.isoformat(), "o": origin_station_id, "h": holder_name}
        signed = f"{PREFIX}.{_b64url(json.dumps(facts, separators=(',', ':'), ensure_ascii=False).encode())}"
        return f"{signed}.{_b64url(self._private.sign(signed.encode()))}"

    def jwks(self) -> dict[str, Any]:
        """The public key as a JSON Web Key Set (RFC 8037: OKP, Ed25519)."""
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "alg": "EdDSA",
                    "use": "sig",
                    "kid": self.key_id,
                    "x": _b64url(raw_public_key(self.public_key)),
                }
            ]
        }


def public_key_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64url(jwk["x"]))


def verify_qr_payload(payload: str, key: Ed25519PublicKey) -> dict[str, str]:
    """The signed facts of a payload; raises InvalidQrPayload unless `key` signed exactly this text."""
    parts = payload.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise InvalidQrPayload(f"not an {PREFIX} payload")
    try:
        key.verify(_unb64url(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except InvalidSignature as exc:
        raise InvalidQrPayload("signature does not match") from exc
    try:
        facts = json.loads(_unb64url(parts[1]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidQrPayload("facts are not JSON") from exc
    if not isinstance(facts, dict):
        raise InvalidQrPayload("facts are not a JSON object")
    return facts
