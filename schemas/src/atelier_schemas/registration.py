"""Events on `registration.events` (key: registration id)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Contract, Message, example_of
from .limits import EventEmail
from .topics import REGISTRATION_EVENTS
from .vocabulary import Language

CancelledBy = Literal["participant", "organiser"]
ActiveStatus = Literal["confirmed", "waitlisted"]  # what a registration holds until it is cancelled
RejectionReason = Literal[
    "unknown_session",
    "unknown_registration",
    "session_cancelled",
    "session_started",
    "already_registered",
    "invalid",
]


class Participant(Contract):
    name: str = Field(description="Full name as the participant typed it.", examples=["Lena Peeters"])
    email: EventEmail = Field(description="Where every message goes.", examples=["lena@example.be"])
    language: Language = Field(description="Language of every message to them.", examples=["nl"])


class SessionInfo(Contract):
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    title: str = Field(description="Workshop title in the participant's language.", examples=["SEO basics"])
    starts_at: datetime = Field(description="Start, with its UTC offset.", examples=["2027-01-12T10:00:00+01:00"])
    ends_at: datetime = Field(description="End, with its UTC offset.", examples=["2027-01-12T12:00:00+01:00"])
    room: str = Field(description="Room inside the centre.", examples=["Room 2"])
    language: Language = Field(description="Language of instruction.", examples=["fr"])


class RegistrationFacts(Message):
    """What every event about one registration carries, so consumers never call back."""

    registration_id: UUID = Field(description="The registration.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"])
    registration_code: str = Field(description="Short code shown to the participant.", examples=["R-7KQ2M9PX"])
    session: SessionInfo = Field(description="Where and when.", examples=[example_of(SessionInfo)])
    participant: Participant = Field(description="Who, and how to reach them.", examples=[example_of(Participant)])
    wants_voucher: bool = Field(description="The participant asked for the train voucher.", examples=[True])
    origin_station_id: str | None = Field(
        default=None,
        description="NMBS/SNCB id of the station the participant travels from.",
        examples=["008821006"],
    )

    def key(self) -> str:
        return str(self.registration_id)


# The purpose a sealed manage link is bound to (atelier_platform.sealed): only notifications opens it.
MANAGE_LINK_PURPOSE = "manage-link"


class WithManageLink(RegistrationFacts):
    """An event after which the participant is emailed the link to their own page."""

    manage_url: str | None = Field(
        default=None,
        description="Deprecated, never filled any more: it carried the manage token in plain text to every reader"
        " of the topic. Read `sealed_manage_url` (notifications) instead.",
        examples=["https://atelier.brussels/registrations/0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"],
    )
    sealed_manage_url: str | None = Field(
        default=None,
        description="The participant's own page to see or cancel the registration (its manage token in the"
        " fragment), sealed for notifications alone: an X25519 sealed box for notifications' public key, purpose"
        " `manage-link`. Absent when registration does not know the token any more (a promotion).",
        examples=["q0Zx3Jc1n0v4GZ8wYt2d9b4oEJHk6KfYl6b8Qm5sVvE1sZk2n3c4b5a6d7e8f9g0h1i2j3k4l5m6n7o8p9q"],
    )


class RegistrationConfirmed(WithManageLink):
    """A participant holds a seat in a session."""

    TYPE = "be.atelier.registration.confirmed.v1"
    TOPIC = REGISTRATION_EVENTS


class RegistrationWaitlisted(WithManageLink):
    """The session was full: the participant waits in line for a seat."""

    TYPE = "be.atelier.registration.waitlisted.v1"
    TOPIC = REGISTRATION_EVENTS

    position: int = Field(ge=1, description="Place in the waiting line, 1 is next.", examples=[3])


class RegistrationPromoted(WithManageLink):
    """A seat was freed and went to this waitlisted participant, who now holds it."""

    TYPE = "be.atelier.registration.promoted.v1"
    TOPIC = REGISTRATION_EVENTS


class RegistrationCancelled(RegistrationFacts):
    """The registration no longer holds or waits for a seat."""

    TYPE = "be.atelier.registration.cancelled.v1"
    TOPIC = REGISTRATION_EVENTS

    cancelled_by: CancelledBy = Field(
        description="Who cancelled: the participant, or the organiser (e.g. the session was cancelled).",
        examples=["organiser"],
    )
    reason: str | None = Field(
        default=None, description="The organiser's reason, shown to the participant.", examples=["Trainer ill"]
    )
    previous_status: ActiveStatus = Field(description="What the registration was before.", examples=["confirmed"])


class RegistrationRejected(Message):
    """A RegisterParticipant or CancelRegistration command was refused."""

    TYPE = "be.atelier.registration.rejected.v1"
    TOPIC = REGISTRATION_EVENTS

    command_id: UUID = Field(description="The refused command.", examples=["5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"])
    registration_id: UUID | None = Field(
        default=None,
        description="The registration concerned, when there is one.",
        examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"],
    )
    reason: RejectionReason = Field(description="Why, as a stable code.", examples=["already_registered"])
    detail: str = Field(description="Why, in words.", examples=["this email already holds a seat in this session"])

    def key(self) -> str:
        return str(self.registration_id or self.command_id)


class AttendanceRecorded(Message):
    """The participant was checked in at the session."""

    TYPE = "be.atelier.registration.attendance_recorded.v1"
    TOPIC = REGISTRATION_EVENTS

    registration_id: UUID = Field(description="The registration.", examples=["0b9d6f4e-5c1a-4e2b-8f3d-7a6c5b4e3d2c"])
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    attended_at: datetime = Field(description="When they were checked in.", examples=["2027-01-12T09:55:00+01:00"])

    def key(self) -> str:
        return str(self.registration_id)
