"""Manage links and command proofs as the services seal them, for tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from atelier_platform import sealed
from atelier_schemas.commands import CANCEL_PROOF_PURPOSE
from atelier_schemas.registration import MANAGE_LINK_PURPOSE
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from notifications.manage_links import with_manage_link
from pydantic import SecretStr
from registration.service_layer.manage_links import ManageLinks

# Links sealed for a key no one keeps: for tests of registration alone, which never open them.
TEST_LINKS = ManageLinks("http://test", X25519PrivateKey.generate().public_key())


def seal_proof(registration_key: X25519PublicKey, token: str) -> str:
    """A cancellation's proof, as a producer of commands seals it with registration's public key."""
    return sealed.seal(registration_key, CANCEL_PROOF_PURPOSE, token)


def cancel_proof(infra: Mapping[str, str], token: str) -> str:
    """The manage token sealed for the registration service the stack runs."""
    return seal_proof(sealed.private_key(infra["REGISTRATION_COMMAND_PROOF_KEY"]).public_key(), token)


def opened_link(infra: Mapping[str, str], box: str) -> str:
    """A sealed manage link opened with the stack's notifications key."""
    return sealed.open_box(sealed.private_key(infra["NOTIFICATIONS_MANAGE_LINK_KEY"]), MANAGE_LINK_PURPOSE, box)


# Notifications' key in tests that build emails without a stack.
TEST_MANAGE_LINK_KEY = SecretStr(sealed.new_private_key_text())


def sealed_for_tests(url: str) -> str:
    """`url` sealed as registration seals it, for TEST_MANAGE_LINK_KEY."""
    key = sealed.private_key(TEST_MANAGE_LINK_KEY.get_secret_value())
    return sealed.seal(key.public_key(), MANAGE_LINK_PURPOSE, url)


def as_delivered(row: dict[str, Any]) -> dict[str, Any]:
    """A queued message as the sender hands it to the email builder: its manage link opened."""
    return dict(with_manage_link({"message_id": "<test>", **row}, TEST_MANAGE_LINK_KEY))


def opened(context: dict[str, Any]) -> dict[str, Any]:
    """A stored message context as the templates see it."""
    return json.loads(as_delivered({"context": json.dumps(context)})["context"])
