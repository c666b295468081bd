"""Events registration publishes about one new registration, for feeding ticketing and notifications."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from atelier_schemas import (
    Message,
    Participant,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    SessionInfo,
)

BRUSSELS = ZoneInfo("Europe/Brussels")
ANTWERPEN_CENTRAAL = "008821006"


def brussels_today() -> date:
    return datetime.now(BRUSSELS).date()


def session_on(day: date, at: time = time(10, 0)) -> SessionInfo:
    starts = datetime.combine(day, at, tzinfo=BRUSSELS)
    return SessionInfo(
        session_id=uuid.uuid4(),
        title="SEO basics",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        room="Room 2",
        language="nl",
    )


def registration_events(
    *,
    origin: str | None = ANTWERPEN_CENTRAAL,
    wants_voucher: bool = True,
    session: SessionInfo | None = None,
    holder: str = "Lena Peeters",
) -> dict[str, Message]:
    """Every event registration may publish about one new registration, by name."""
    facts = dict(
        registration_id=uuid.uuid4(),
        registration_code="R-TICKET01",
        session=session or session_on(date.today() + timedelta(days=7)),
        participant=Participant(name=holder, email=f"p-{uuid.uuid4().hex[:10]}@example.be", language="nl"),
        wants_voucher=wants_voucher,
        origin_station_id=origin,
    )
    return {
        "confirmed": RegistrationConfirmed(**facts),
        "waitlisted": RegistrationWaitlisted(**facts, position=1),
        "promoted": RegistrationPromoted(**facts),
        "cancelled": RegistrationCancelled(**facts, cancelled_by="participant", previous_status="confirmed"),
    }
