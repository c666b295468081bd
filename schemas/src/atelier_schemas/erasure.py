"""Erasing a person (GDPR art. 17): the command, registration's event, and each service's confirmation.

They live together, across three topics, because they form one exchange: `ErasePerson` (or the
admin API) → `PersonErased` on `registration.events` → every service scrubs what it holds and
answers with its own confirmation, keyed by the erasure id. Only the command carries personal data
(the address to erase); the events carry an opaque erasure id and registration ids.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from .base import Message
from .limits import EventEmail
from .topics import NOTIFICATIONS_EVENTS, REGISTRATION_COMMANDS, REGISTRATION_EVENTS, TICKETING_EVENTS


class ErasePerson(Message):
    """Erase everything the centre holds about the person with this email address. The outcome is `PersonErased`."""

    TYPE = "be.atelier.registration.erase_person.v1"
    TOPIC = REGISTRATION_COMMANDS

    command_id: UUID = Field(
        description="Unique per command; sending it again has no further effect.",
        examples=["2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"],
    )
    email: EventEmail = Field(
        description="The person's email address, as they registered.", examples=["lena@example.be"]
    )

    def key(self) -> str:
        return str(self.command_id)


class PersonErased(Message):
    """Registration anonymised a person's registrations; every service now scrubs those registrations' data."""

    TYPE = "be.atelier.registration.person_erased.v1"
    TOPIC = REGISTRATION_EVENTS

    erasure_id: UUID = Field(
        description="Opaque reference of this erasure (random; it reveals nothing about the person).",
        examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
    )
    registration_ids: list[UUID] = Field(
        description="The person's registrations, whose data every service erases.",
        examples=[["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]],
    )

    def key(self) -> str:
        return str(self.erasure_id)


class TicketingErasureConfirmed(Message):
    """Ticketing erased the holder names of the erasure's registrations, in its vouchers and its outbox."""

    TYPE = "be.atelier.ticketing.erasure_confirmed.v1"
    TOPIC = TICKETING_EVENTS

    erasure_id: UUID = Field(description="The erasure confirmed.", examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"])

    def key(self) -> str:
        return str(self.erasure_id)


class NotificationsErasureConfirmed(Message):
    """Notifications erased the contacts and message contents of the erasure's registrations and cancelled
    their queued messages and reminders."""

    TYPE = "be.atelier.notifications.erasure_confirmed.v1"
    TOPIC = NOTIFICATIONS_EVENTS

    erasure_id: UUID = Field(description="The erasure confirmed.", examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"])

    def key(self) -> str:
        return str(self.erasure_id)
