"""Public HTTP API: the programme, registering, and a participant's own registration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
from atelier_platform.logs import correlation_id
from atelier_platform.ratelimit import client_address
from atelier_schemas.limits import LINE_PATTERN, Company, Day, Email, PersonName, Phone, StationId
from atelier_schemas.vocabulary import Language, Profile, Topic
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..domain import Refused
from ..service_layer import registrations
from ..service_layer.answers import STATUS_OF_REFUSAL, RegisteredOut, RegistrationOut
from ..service_layer.programme import SessionFilter, list_sessions, session_by_id
from .dependencies import IntakeDep, LimitsDep, SettingsDep, Uow
from .responses import IdempotencyKey, keyed, render, respond

router = APIRouter()
ManageToken = Annotated[str, Query(description="The manage token", max_length=200, pattern=LINE_PATTERN)]


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

    name: PersonName = Field(examples=["Lena Peeters"])
    email: Email = Field(examples=["lena@example.be"])
    language: Language = Field(description="Language of the emails the participant gets")
    phone: Phone | None = Field(default=None, examples=["+32 470 12 34 56"])
    profile: Profile = Field(default="other")
    company: Company | None = Field(default=None)
    consent_to_contact: bool = Field(default=False, description="May we write about other events?")
    wants_voucher: bool = Field(default=False, description="Ask for the 9.60 EUR train voucher")
    origin_station_id: StationId | None = Field(
        default=None, description="NMBS/SNCB station id", examples=["008821006"]
    )

    @model_validator(mode="after")
    def station_with_voucher(self) -> RegistrationIn:
        if self.wants_voucher and self.origin_station_id is None:
            raise ValueError("origin_station_id is required when wants_voucher is true")
        return self


@router.get("/sessions", response_model=list[SessionOut], tags=["programme"])
async def get_sessions(
    uow: Uow,
    date_from: Day | None = None,
    date_to: Day | None = None,
    topic: Topic | None = None,
    language: Language | None = None,
    with_seats_left: bool = Query(default=False, description="Only sessions where a seat is free"),
) -> list[dict[str, Any]]:
    rows = await list_sessions(uow.pool, SessionFilter(date_from, date_to, topic, language, with_seats_left))
    return [dict(r) for r in rows]


@router.get(
    "/sessions/{session_id}",
    response_model=SessionOut,
    tags=["programme"],
    responses={404: {"description": "Unknown session"}},
)
async def get_session(session_id: uuid.UUID, uow: Uow) -> dict[str, Any]:
    """One session, past or cancelled included: what a participant's own page shows."""
    row = await session_by_id(uow.pool, session_id)
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
        429: {"description": "Too many registrations from this address or for this email domain (see Retry-After)"},
    },
)
async def register(
    session_id: uuid.UUID,
    body: RegistrationIn,
    request: Request,
    intake: IntakeDep,
    limits: LimitsDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    limits.per_address.spend(client_address(request, settings.proxies()))
    limits.per_domain.spend(body.email.rpartition("@")[2].lower())
    request_key = await keyed(request, idempotency_key)
    application = registrations.Application(
        session_id, registrations.NewRegistration(**body.model_dump()), correlation_id=correlation_id.get()
    )
    return render(await intake.register(application, request_key.key, request_key.digest))


async def _own_registration(registration_id: uuid.UUID, token: str, conn: asyncpg.Connection) -> asyncpg.Record:
    try:
        row = await registrations.own_registration(conn, registration_id, token)
    except registrations.LinkExpired as expired:
        raise HTTPException(410, str(expired)) from None
    if row is None:  # the same answer for an unknown id and a wrong token: ids cannot be probed
        raise HTTPException(404, "no registration with this id and token")
    return row


class OwnRegistrationOut(RegistrationOut):
    wants_voucher: bool = Field(description="Whether the participant asked for the train voucher")


@router.get(
    "/registrations/{registration_id}",
    response_model=OwnRegistrationOut,
    tags=["registration"],
    responses={
        404: {"description": "Unknown registration or wrong token"},
        410: {"description": "The token expired: its session has ended"},
    },
)
async def get_registration(
    registration_id: uuid.UUID,
    uow: Uow,
    token: ManageToken,
) -> OwnRegistrationOut:
    async with uow.pool.acquire() as conn:
        row = await _own_registration(registration_id, token, conn)
        position = await registrations.waitlist_position(conn, row)
    return OwnRegistrationOut(**_out(row, waitlist_position=position).model_dump(), wants_voucher=row["wants_voucher"])


def _out(row: asyncpg.Record, **changes: Any) -> RegistrationOut:
    fields = {
        "registration_id": row["id"],
        "code": row["code"],
        "session_id": row["session_id"],
        "status": row["status"],
    }
    return RegistrationOut(**{**fields, **changes})


@router.post(
    "/registrations/{registration_id}/cancel",
    response_model=RegistrationOut,
    tags=["registration"],
    responses={
        404: {"description": "Unknown registration or wrong token"},
        409: {"description": "The session has started"},
        410: {"description": "The token expired: its session has ended"},
    },
)
async def cancel_registration(
    registration_id: uuid.UUID,
    request: Request,
    uow: Uow,
    token: ManageToken,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        row = await _own_registration(registration_id, token, conn)
        try:
            await registrations.cancel(conn, registration_id, by="participant")
        except Refused as refused:
            raise refusal_to_http(refused) from None
        return 200, _out(row, status="cancelled").model_dump(exclude_none=True)

    return await respond(uow, request, idempotency_key, action)
