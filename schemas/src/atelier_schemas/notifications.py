"""Events on `notifications.events` (key: registration id)."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from .base import Message
from .topics import NOTIFICATIONS_EVENTS


class NotificationSent(Message):
    """An email was accepted by the SMTP server."""

    TYPE = "be.atelier.notifications.sent.v1"
    TOPIC = NOTIFICATIONS_EVENTS

    message_id: str = Field(description="The email's Message-ID.", examples=["<5f0e@atelier.brussels>"])
    registration_id: UUID = Field(
        description="The registration it is about.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    kind: str = Field(description="What the email says.", examples=["registration_confirmed"])
    attempts: int = Field(description="Delivery attempts it took.", examples=[1])

    def key(self) -> str:
        return str(self.registration_id)


class NotificationFailed(Message):
    """An email could not be delivered and will not be retried."""

    TYPE = "be.atelier.notifications.failed.v1"
    TOPIC = NOTIFICATIONS_EVENTS

    message_id: str = Field(description="The email's Message-ID.", examples=["<5f0e@atelier.brussels>"])
    registration_id: UUID = Field(
        description="The registration it is about.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )
    kind: str = Field(description="What the email says.", examples=["voucher_issued"])
    attempts: int = Field(description="Delivery attempts made.", examples=[3])
    error: str = Field(description="The last SMTP error.", examples=["550 mailbox unavailable"])

    def key(self) -> str:
        return str(self.registration_id)
