"""Public HTTP API: the programme, registering, and a participant's own registration."""

from __future__ import annotations

import secrets
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from atelier_platform.logs import correlation_id
from fastapi import APIRouter, Header, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from . import idempotency, registrations
from .domain import Refusal, Refused
from .programme import SessionFilter, list_sessions, session_by_id

Language = Literal["fr", "nl", "en"]
Profile = Literal["entrepreneur", "student", "job_seeker", "other"]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", description="Retry safely: the same key replays the first response")
]
router = APIRouter()

STATUS_OF_REFUSAL = {
    Refusal.UNKNOWN_SESSION: 404,
    Refusal.UNKNOWN_REGISTRATION: 404,
    Refusal.SESSION_CANCELLED: 409,
    Refusal.SESSION_STARTED: 409,
    Refusal.ALREADY_REGISTERED: 409,
}


def refusal_to_http(refused: Refused) -> HTTPException:
    return HTTPException(STATUS_OF_REFUSAL[refused.reason], str(refused))


class SessionOut(BaseModel):
    id: uuid.UUID
    kind: Literal["workshop", "coaching"]
    topic: str
    title_fr: str
    title_nl: str
    title_en: str
    coach: str | None
    starts_at: datetime
    ends_at: datetime
    room: str
    language: Language
    capacity: int
    seats_left: int
    waitlist_length: int
    status: Literal["scheduled", "cancelled"]


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Lena Peeters"])
    email: EmailStr = Field(examples=["lena@example.be"])
    language: Language = Field(description="Language of the emails the participant gets")
    phone: str | None = Field(
        default=None, max_length=40, pattern=r"^\+?[0-9 ()./-]{6,40}$", examples=["+32 470 12 34 56"]
    )
    profile: Profile = Field(default="other")
    company: str | None = Field(default=None, max_length=200)
    consent_to_contact: bool = Field(default=False, description="May we write about other events?")
    wants_voucher: bool = Field(default=False, description="Ask for the 9.60 EUR train voucher")
    origin_station_id: str | None = Field(
        default=None, pattern=r"^\d{9}$", description="NMBS/SNCB station id", examples=["008821006"]
    )

    @model_validator(mode="after")
    def station_with_voucher(self) -> RegistrationIn:
        if self.wants_voucher and self.origin_station_id is None:
            raise ValueError("origin_station_id is required when wants_voucher is true")
        return self


class RegistrationOut(BaseModel):
    registration_id: uuid.UUID
    code: str
    session_id: uuid.UUID
    status: Literal["confirmed", "waitlisted", "cancelled"]
    waitlist_position: int | None = None


class OwnRegistrationOut(RegistrationOut):
    wants_voucher: bool = Field(description="Whether the participant asked for the train voucher")


class RegisteredOut(RegistrationOut):
    manage_token: str = Field(description="Keep it: it lets the participant see and cancel this registration")


@router.get("/sessions", response_model=list[SessionOut], tags=["programme"])
async def get_sessions(
    request: Request,
    date_from: date | None = None,
    date_to: date | None = None,
    topic: Literal["online_visibility", "social_media", "seo", "e_commerce", "digital_marketing", "coaching", "other"]
    | None = None,
    language: Language | None = None,
    with_seats_left: bool = Query(default=False, description="Only sessions where a seat is free"),
) -> list[dict]:
    rows = await list_sessions(
        request.app.state.runtime.pool, SessionFilter(date_from, date_to, topic, language, with_seats_left)
    )
    return [dict(r) for r in rows]


@router.get(
    "/sessions/{session_id}",
    response_model=SessionOut,
    tags=["programme"],
    responses={404: {"description": "Unknown session"}},
)
async def get_session(session_id: uuid.UUID, request: Request) -> dict:
    """One session, past or cancelled included: what a participant's own page shows."""
    row = await session_by_id(request.app.state.runtime.pool, session_id)
    if row is None:
        raise HTTPException(404, "no session with this id")
    return dict(row)


@router.post(
    "/sessions/{session_id}/registrations",
    status_code=201,
    response_model=RegisteredOut,
    tags=["registration"],
    responses={
        404: {"description": "Unknown session"},
        409: {"description": "Cancelled or started session, or already registered"},
    },
)
async def register(
    session_id: uuid.UUID, body: RegistrationIn, request: Request, idempotency_key: IdempotencyKey = None
):
    digest = None
    if idempotency_key is not None:
        idempotency.check_key(idempotency_key)
        digest = await idempotency.request_hash(request)
    application = registrations.Application(
        session_id, registrations.NewRegistration(**body.model_dump()), correlation_id=correlation_id.get()
    )
    return await request.app.state.intake.register(application, idempotency_key, digest)


async def _own_registration(request: Request, registration_id: uuid.UUID, token: str, conn):
    row = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", registration_id)
    # The same answer for an unknown id and a wrong token: ids cannot be probed.
    if (
        row is None
        or row["manage_token_hash"] is None
        or not secrets.compare_digest(row["manage_token_hash"], registrations.token_hash(token))
    ):
        raise HTTPException(404, "no registration with this id and token")
    return row


@router.get("/registrations/{registration_id}", response_model=OwnRegistrationOut, tags=["registration"])
async def get_registration(
    registration_id: uuid.UUID, request: Request, token: str = Query(description="The manage token")
) -> dict:
    async with request.app.state.runtime.pool.acquire() as conn:
        row = await _own_registration(request, registration_id, token, conn)
        position = await registrations.waitlist_position(conn, row)
    return {
        "registration_id": row["id"],
        "code": row["code"],
        "session_id": row["session_id"],
        "status": row["status"],
        "waitlist_position": position,
        "wants_voucher": row["wants_voucher"],
    }


@router.post(
    "/registrations/{registration_id}/cancel",
    response_model=RegistrationOut,
    tags=["registration"],
    responses={
        404: {"description": "Unknown registration or wrong token"},
        409: {"description": "The session has started"},
    },
)
async def cancel_registration(
    registration_id: uuid.UUID,
    request: Request,
    idempotency_key: IdempotencyKey = None,
    token: str = Query(description="The manage token"),
):
    runtime = request.app.state.runtime

    async def action(conn):
        row = await _own_registration(request, registration_id, token, conn)
        try:
            await registrations.cancel(conn, registration_id, by="participant")
        except Refused as refused:
            raise refusal_to_http(refused) from None
        return 200, {
            "registration_id": row["id"],
            "code": row["code"],
            "session_id": row["session_id"],
            "status": "cancelled",
        }

    response = await idempotency.respond(runtime.pool, request, idempotency_key, action)
    runtime.relay.wake()
    return response
