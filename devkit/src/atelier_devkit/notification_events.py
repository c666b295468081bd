"""Events that notifications consumes, built as their producers would build them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from atelier_schemas import (
    Participant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    ScheduledSession,
    SessionCancelled,
    SessionChanged,
    SessionInfo,
    TicketIssued,
    TicketRejected,
    TicketVoided,
    Titles,
)

TITLES = {"fr": "Les bases du référencement", "nl": "De basis van zoekmachineoptimalisatie", "en": "SEO basics"}


def session(*, starts_at: datetime | None = None, room: str = "Room 2", language: str = "en") -> SessionInfo:
    starts = starts_at or datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    return SessionInfo(
        session_id=uuid.uuid4(),
        title=TITLES[language],
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        room=room,
        language=language,
    )


def _facts(email: str, language: str, at: SessionInfo | None, registration_id: uuid.UUID | None) -> dict:
    return {
        "registration_id": registration_id or uuid.uuid4(),
        "registration_code": f"R-{uuid.uuid4().hex[:8].upper()}",
        "session": at or session(language=language),
        "participant": Participant(name="Lena Peeters", email=email, language=language),
        "wants_voucher": False,  # ticketing leaves these alone; tests publish voucher events themselves
    }


def confirmed(
    email: str,
    *,
    language: str = "en",
    at: SessionInfo | None = None,
    registration_id: uuid.UUID | None = None,
    sealed_manage_url: str | None = None,
    voucher_from: str | None = None,
) -> RegistrationConfirmed:
    """`voucher_from`: the origin station of a participant who asks for the train voucher."""
    facts = _facts(email, language, at, registration_id)
    if voucher_from:
        facts.update(wants_voucher=True, origin_station_id=voucher_from)
    return RegistrationConfirmed(**facts, sealed_manage_url=sealed_manage_url)


def waitlisted(email: str, *, language: str = "en", at: SessionInfo | None = None, position: int = 3):
    return RegistrationWaitlisted(**_facts(email, language, at, None), position=position)


def promoted(waiting: RegistrationWaitlisted) -> RegistrationPromoted:
    return RegistrationPromoted(**_same_registration(waiting), sealed_manage_url=waiting.sealed_manage_url)


def cancelled(
    registration: RegistrationConfirmed | RegistrationWaitlisted | RegistrationPromoted,
    *,
    by: str = "participant",
    reason: str | None = None,
    previous_status: str = "confirmed",
) -> RegistrationCancelled:
    return RegistrationCancelled(
        **_same_registration(registration), cancelled_by=by, reason=reason, previous_status=previous_status
    )


def _same_registration(registration) -> dict:
    return registration.model_dump(
        include={"registration_id", "registration_code", "session", "participant", "wants_voucher", "origin_station_id"}
    )


def session_changed(before: SessionInfo, *, starts_at: datetime | None = None, room: str | None = None):
    starts = starts_at or before.starts_at
    return SessionChanged(
        session=ScheduledSession(
            session_id=before.session_id,
            kind="workshop",
            topic="seo",
            titles=Titles(**TITLES),
            starts_at=starts,
            ends_at=starts + (before.ends_at - before.starts_at),
            room=room or before.room,
            language=before.language,
            capacity=25,
        ),
        previous_starts_at=before.starts_at,
        previous_room=before.room,
    )


def session_cancelled(at: SessionInfo, reason: str = "Trainer ill") -> SessionCancelled:
    return SessionCancelled(session_id=at.session_id, reason=reason)


def ticket_issued(
    registration_id: uuid.UUID, *, qr_payload: str | None = "ATV1.eyJjIjoiWUNYVkszIn0.c2lnbmF0dXJl", valid_on=None
) -> TicketIssued:
    return TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=registration_id,
        code=f"{uuid.uuid4().hex[:6].upper()}-6BJGR4-A9FR5A",
        valid_on=valid_on or date(2027, 1, 12),
        origin_station_id="008814001",
        price_eur=Decimal("9.60"),
        holder_name="Lena Peeters",
        origin_name_fr="Bruxelles-Midi",
        origin_name_nl="Brussel-Zuid",
        qr_payload=qr_payload,
    )


def ticket_rejected(registration_id: uuid.UUID) -> TicketRejected:
    return TicketRejected(registration_id=registration_id, origin_station_id="009999999", reason="unknown_station")


def ticket_voided(issued: TicketIssued, reason: str = "registration_cancelled") -> TicketVoided:
    return TicketVoided(
        voucher_id=issued.voucher_id, registration_id=issued.registration_id, code=issued.code, reason=reason
    )
