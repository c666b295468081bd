"""The participant's own page, with the manage token, as it travels in the events: sealed for notifications.

Registration keeps only the token's hash, and no reader of `registration.events` (nor its outbox, nor
a dead-letter topic) sees the token: only notifications' private key opens the link, when it writes
the email (see docs/adr/0007).
"""

from __future__ import annotations

import uuid

from atelier_platform import sealed
from atelier_schemas.registration import MANAGE_LINK_PURPOSE
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey


def manage_url(public_url: str, registration_id: uuid.UUID, token: str, language: str) -> str:
    """The participant's page on the web front-end. The token rides in the fragment, which browsers never
    send to a server, so it lands in no access log (see docs/adr/0005)."""
    return f"{public_url.rstrip('/')}/registrations/{registration_id}?lang={language}#token={token}"


class ManageLinks:
    def __init__(self, public_url: str, notifications_key: X25519PublicKey) -> None:
        self.public_url = public_url
        self._sealer = sealed.Sealer(notifications_key, MANAGE_LINK_PURPOSE)

    @classmethod
    def from_settings(cls, public_url: str, notifications_public_key: str) -> ManageLinks:
        return cls(public_url, sealed.public_key(notifications_public_key))

    def sealed(self, registration_id: uuid.UUID, token: str, language: str) -> str:
        return self._sealer.seal(manage_url(self.public_url, registration_id, token, language))
