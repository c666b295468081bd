"""What the local stacks tell the services beyond where their servers are: dev keys, proxies, limits."""

from __future__ import annotations

import base64

# Everything local reaches the services over loopback, the participant pages too: their
# X-Forwarded-For names the participant.
LOOPBACK_PROXIES = "127.0.0.1,::1"
# The tests and benchmarks send thousands of registrations from 127.0.0.1 for a handful of email
# domains; the dev stack keeps the real limits, and tests/e2e/test_registration_limits.py runs its
# own registration with small ones.
LIFTED_LIMITS = {
    "REGISTRATION_ADDRESS_BURST": "1000000",
    "REGISTRATION_ADDRESS_PER_MINUTE": "1000000",
    "REGISTRATION_DOMAIN_BURST": "1000000",
    "REGISTRATION_DOMAIN_PER_MINUTE": "1000000",
}


def dev_sealing_keys() -> dict[str, str]:
    """A fresh key pair each for notifications' manage links and registration's command proofs (dev only)."""
    # Imported here: `status` and `down` run on a bare Python without the workspace's packages.
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    def text(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    notifications, registration = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    raw = (Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    notifications_public = notifications.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {
        "NOTIFICATIONS_MANAGE_LINK_KEY": text(notifications.private_bytes(*raw)),
        "REGISTRATION_NOTIFICATIONS_PUBLIC_KEY": text(notifications_public),
        "REGISTRATION_COMMAND_PROOF_KEY": text(registration.private_bytes(*raw)),
    }


def local_settings(name: str, state: dict) -> dict[str, str]:
    return {**state["sealing_keys"], "TRUSTED_PROXIES": LOOPBACK_PROXIES, **({} if name == "dev" else LIFTED_LIMITS)}
