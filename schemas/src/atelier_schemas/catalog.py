"""Events on `catalog.events` (key: session id): the programme."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Contract, Message, example_of
from .topics import CATALOG_EVENTS
from .vocabulary import Language, Topic


class Titles(Contract):
    fr: str = Field(description="Title in French.", examples=["Les bases du référencement"])
    nl: str = Field(description="Title in Dutch.", examples=["De basis van zoekmachineoptimalisatie"])
    en: str = Field(description="Title in English.", examples=["SEO basics"])


class ScheduledSession(Contract):
    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    workshop_id: UUID | None = Field(
        default=None,
        description="The workshop it runs; none for coaching.",
        examples=["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
    )
    kind: Literal["workshop", "coaching"] = Field(description="Group workshop or 1:1 coaching.", examples=["workshop"])
    topic: Topic = Field(description="What it teaches.", examples=["seo"])
    titles: Titles = Field(description="Its title in each language.", examples=[example_of(Titles)])
    starts_at: datetime = Field(description="Start, with its UTC offset.", examples=["2027-01-12T10:00:00+01:00"])
    ends_at: datetime = Field(description="End, with its UTC offset.", examples=["2027-01-12T12:00:00+01:00"])
    room: str = Field(description="Room inside the centre.", examples=["Room 2"])
    language: Language = Field(description="Language of instruction.", examples=["fr"])
    capacity: int = Field(ge=1, description="Seats; 1 for coaching.", examples=[25])
    coach: str | None = Field(
        default=None, description="The coach of a 1:1 slot; none for a workshop.", examples=[None, "Sofie Janssens"]
    )


class SessionScheduled(Message):
    """A session was added to the programme."""

    TYPE = "be.atelier.catalog.session_scheduled.v1"
    TOPIC = CATALOG_EVENTS

    session: ScheduledSession = Field(description="The session as scheduled.", examples=[example_of(ScheduledSession)])

    def key(self) -> str:
        return str(self.session.session_id)


class SessionChanged(Message):
    """A session's time, room or capacity changed."""

    TYPE = "be.atelier.catalog.session_changed.v1"
    TOPIC = CATALOG_EVENTS

    session: ScheduledSession = Field(description="The session as it is now.", examples=[example_of(ScheduledSession)])
    previous_starts_at: datetime = Field(description="Start before the change.", examples=["2027-01-12T09:00:00+01:00"])
    previous_room: str = Field(description="Room before the change.", examples=["Room 1"])

    def key(self) -> str:
        return str(self.session.session_id)


class SessionCancelled(Message):
    """The session will not take place; each registration is cancelled with its own event."""

    TYPE = "be.atelier.catalog.session_cancelled.v1"
    TOPIC = CATALOG_EVENTS

    session_id: UUID = Field(description="The session.", examples=["6f1c2d8e-0b4a-4c1e-9d2f-3a5b7c9d1e2f"])
    reason: str = Field(description="The organiser's reason.", examples=["Trainer ill"])

    def key(self) -> str:
        return str(self.session_id)
