"""Atelier's event contracts: models, topics and the CloudEvents Kafka binding."""

from __future__ import annotations

from .base import Message
from .catalog import ScheduledSession, SessionCancelled, SessionChanged, SessionScheduled, Titles
from .commands import CancelRegistration, RegisterParticipant, RegisterParticipantV2
from .envelope import CloudEvent, InvalidEnvelope
from .erasure import ErasePerson, NotificationsErasureConfirmed, PersonErased, TicketingErasureConfirmed
from .notifications import NotificationFailed, NotificationSent
from .registration import (
    AttendanceRecorded,
    Participant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationRejected,
    RegistrationWaitlisted,
    SessionInfo,
)
from .ticketing import TicketIssued, TicketRejected, TicketValidated, TicketVoided

MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls
    for cls in (
        RegisterParticipant,
        RegisterParticipantV2,
        CancelRegistration,
        RegistrationConfirmed,
        RegistrationWaitlisted,
        RegistrationPromoted,
        RegistrationCancelled,
        RegistrationRejected,
        AttendanceRecorded,
        SessionScheduled,
        SessionChanged,
        SessionCancelled,
        TicketIssued,
        TicketVoided,
        TicketRejected,
        TicketValidated,
        NotificationSent,
        NotificationFailed,
        ErasePerson,
        PersonErased,
        TicketingErasureConfirmed,
        NotificationsErasureConfirmed,
    )
}


def messages_on(topic: str) -> tuple[type[Message], ...]:
    """Every command or event type that may travel on `topic`."""
    return tuple(model for model in MESSAGE_TYPES.values() if model.TOPIC == topic)


def to_cloud_event(message: Message, *, source: str, correlation_id: str | None = None) -> CloudEvent:
    """Wrap a payload in a new CloudEvent (fresh id and time)."""
    return CloudEvent(
        type=message.TYPE,
        source=source,
        subject=message.key(),
        correlation_id=correlation_id,
        data=message.model_dump(mode="json"),
    )


def parse(event: CloudEvent) -> Message | None:
    """The payload as its model; None for a type this package does not know.

    Raises pydantic.ValidationError when the payload breaks its contract.
    """
    model = MESSAGE_TYPES.get(event.type)
    return None if model is None else model.model_validate(event.data)


__all__ = [
    "MESSAGE_TYPES",
    "AttendanceRecorded",
    "CancelRegistration",
    "CloudEvent",
    "ErasePerson",
    "InvalidEnvelope",
    "Message",
    "NotificationFailed",
    "NotificationsErasureConfirmed",
    "NotificationSent",
    "Participant",
    "PersonErased",
    "RegisterParticipant",
    "RegisterParticipantV2",
    "RegistrationCancelled",
    "RegistrationConfirmed",
    "RegistrationPromoted",
    "RegistrationRejected",
    "RegistrationWaitlisted",
    "ScheduledSession",
    "SessionCancelled",
    "SessionChanged",
    "SessionInfo",
    "SessionScheduled",
    "TicketIssued",
    "TicketRejected",
    "TicketValidated",
    "TicketingErasureConfirmed",
    "TicketVoided",
    "Titles",
    "messages_on",
    "parse",
    "to_cloud_event",
]
