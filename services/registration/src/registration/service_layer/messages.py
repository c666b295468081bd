"""Event payloads built from stored rows, so every event carries what consumers need."""

from __future__ import annotations

from typing import Any

import asyncpg
from atelier_schemas import (
    Participant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    ScheduledSession,
    SessionInfo,
    Titles,
)
from atelier_schemas.registration import ActiveStatus, CancelledBy

from ..domain import title_in


def scheduled_session(session: asyncpg.Record) -> ScheduledSession:
    return ScheduledSession(
        session_id=session["id"],
        workshop_id=session["workshop_id"],
        kind=session["kind"],
        topic="coaching" if session["kind"] == "coaching" else session["topic"],
        titles=Titles(fr=session["title_fr"], nl=session["title_nl"], en=session["title_en"]),
        starts_at=session["starts_at"],
        ends_at=session["ends_at"],
        room=session["room"],
        language=session["language"],
        capacity=session["capacity"],
        coach=session["coach"],
    )


def _facts(registration: asyncpg.Record, session: asyncpg.Record) -> dict[str, Any]:
    return {
        "registration_id": registration["id"],
        "registration_code": registration["code"],
        "session": SessionInfo(
            session_id=session["id"],
            title=title_in(registration["language"], session),
            starts_at=session["starts_at"],
            ends_at=session["ends_at"],
            room=session["room"],
            language=session["language"],
        ),
        "participant": Participant(
            name=registration["name"], email=registration["email"], language=registration["language"]
        ),
        "wants_voucher": registration["wants_voucher"],
        "origin_station_id": registration["origin_station_id"],
    }


def confirmed(registration: asyncpg.Record, session: asyncpg.Record, sealed_link: str) -> RegistrationConfirmed:
    return RegistrationConfirmed(**_facts(registration, session), sealed_manage_url=sealed_link)


def waitlisted(
    registration: asyncpg.Record, session: asyncpg.Record, position: int, sealed_link: str
) -> RegistrationWaitlisted:
    return RegistrationWaitlisted(**_facts(registration, session), position=position, sealed_manage_url=sealed_link)


def promoted(registration: asyncpg.Record, session: asyncpg.Record) -> RegistrationPromoted:
    return RegistrationPromoted(**_facts(registration, session))


def cancelled(
    registration: asyncpg.Record,
    session: asyncpg.Record,
    *,
    by: CancelledBy,
    reason: str | None,
    previous: ActiveStatus,
) -> RegistrationCancelled:
    return RegistrationCancelled(
        **_facts(registration, session), cancelled_by=by, reason=reason, previous_status=previous
    )
