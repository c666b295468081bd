"""Commands on `registration.commands`: other services register and cancel through Kafka."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from .base import Message, example_of
from .registration import Participant
from .topics import REGISTRATION_COMMANDS


class RegisterParticipant(Message):
    """Register someone for a session. The outcome is a registration event (or a rejection)."""

    TYPE = "be.atelier.registration.register_participant.v1"
    TOPIC = REGISTRATION_COMMANDS

    command_id: UUID = Field(
        description="Unique per command; sending it again has no further effect.",
        examples=["5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"],
    )
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    participant: Participant = Field(description="Who registers.", examples=[example_of(Participant)])
    phone: str | None = Field(default=None, description="Phone number, optional.", examples=["+32 470 12 34 56"])
    profile: str = Field(
        default="other", description="entrepreneur, student, job_seeker or other.", examples=["entrepreneur"]
    )
    company: str | None = Field(default=None, description="Company, optional.", examples=["Peeters Bakery"])
    consent_to_contact: bool = Field(default=False, description="May we write about other events?", examples=[True])
    wants_voucher: bool = Field(default=False, description="Ask for the train voucher.", examples=[True])
    origin_station_id: str | None = Field(
        default=None, description="NMBS/SNCB id of the origin station.", examples=["008821006"]
    )

    def key(self) -> str:
        return str(self.command_id)


class CancelRegistration(Message):
    """Cancel a registration on the participant's behalf."""

    TYPE = "be.atelier.registration.cancel_registration.v1"
    TOPIC = REGISTRATION_COMMANDS

    command_id: UUID = Field(description="Unique per command.", examples=["7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"])
    registration_id: UUID = Field(
        description="The registration to cancel.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"]
    )

    def key(self) -> str:
        return str(self.registration_id)
