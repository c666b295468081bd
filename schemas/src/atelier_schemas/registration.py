"""Events on `registration.events` (key: registration id)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from .base import Message
from .topics import REGISTRATION_EVENTS

Language = Literal["fr", "nl", "en"]


class Participant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str = Field(description="Full name as the participant typed it.", examples=["Lena Peeters"])
    email: EmailStr = Field(description="Where every message goes.", examples=["lena@example.be"])
    language: Language = Field(description="Language of every message to them.", examples=["nl"])


class SessionInfo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    title: str = Field(description="Workshop title in the participant's language.", examples=["SEO basics"])
    starts_at: datetime = Field(description="Start, with its UTC offset.", examples=["2027-01-12T10:00:00+01:00"])
    ends_at: datetime = Field(description="End, with its UTC offset.", examples=["2027-01-12T12:00:00+01:00"])
    room: str = Field(description="Room inside the centre.", examples=["Room 2"])
    language: Language = Field(description="Language of instruction.", examples=["fr"])


class RegistrationConfirmed(Message):
    """A participant holds a seat in a session."""

    TYPE = "be.atelier.registration.confirmed.v1"
    TOPIC = REGISTRATION_EVENTS

    registration_id: UUID = Field(description="The registration.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"])
    registration_code: str = Field(description="Short code shown to the participant.", examples=["R-7KQ2M9"])
    session: SessionInfo = Field(description="Where and when.")
    participant: Participant = Field(description="Who, and how to reach them.")
    wants_voucher: bool = Field(description="The participant asked for the train voucher.", examples=[True])
    origin_station_id: str | None = Field(
        default=None,
        description="NMBS/SNCB id of the station the participant travels from.",
        examples=["008821006"],
    )

    def key(self) -> str:
        return str(self.registration_id)
