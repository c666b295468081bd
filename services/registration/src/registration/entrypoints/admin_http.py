"""Admin HTTP API (bearer token): the programme, check-in, and the report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from atelier_platform.http import bearer_token
from atelier_schemas.limits import LINE_PATTERN, Description, PersonName, Reason, Room, SessionTime, Title
from atelier_schemas.vocabulary import Language, WorkshopTopic
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..adapters.report import build_report
from ..domain import Refused
from ..service_layer import programme, registrations
from ..service_layer.unit_of_work import UnitOfWork
from .dependencies import SettingsDep, Uow
from .http import SessionOut, refusal_to_http
from .responses import Action, IdempotencyKey, respond

require_admin = bearer_token("admin", "admin_token")
router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"description": "No admin token"},
        403: {"description": "Wrong admin token"},
        404: {"description": "Unknown workshop, session or code"},
        409: {"description": "The programme or the registration does not allow it"},
    },
)


class WorkshopIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: WorkshopTopic
    title_fr: Title
    title_nl: Title
    title_en: Title
    description_fr: Description
    description_nl: Description
    description_en: Description
    duration_minutes: int = Field(gt=0, le=8 * 60)


class WorkshopChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: WorkshopTopic | None = None
    title_fr: Title | None = None
    title_nl: Title | None = None
    title_en: Title | None = None
    description_fr: Description | None = None
    description_nl: Description | None = None
    description_en: Description | None = None
    duration_minutes: int | None = Field(default=None, gt=0, le=8 * 60)


class WorkshopOut(WorkshopIn):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID


class SessionPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: SessionTime = Field(examples=["2027-01-12T10:00:00+01:00"])
    ends_at: SessionTime = Field(examples=["2027-01-12T12:00:00+01:00"])
    room: Room = Field(examples=["Room 2"])
    language: Language

    @model_validator(mode="after")
    def ends_after_start(self) -> SessionPlanIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionIn(SessionPlanIn):
    workshop_id: uuid.UUID
    capacity: int = Field(gt=0, le=1000, examples=[25])


class CoachingIn(SessionPlanIn):
    coach: PersonName = Field(examples=["Sofie Claes"])


class SessionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: SessionTime | None = None
    ends_at: SessionTime | None = None
    room: Room | None = None
    capacity: int | None = Field(default=None, gt=0, le=1000)


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(examples=["Trainer ill"])


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=3, max_length=20, pattern=LINE_PATTERN, examples=["R-7KQ2M9PX"])


class CheckInOut(BaseModel):
    registration_id: uuid.UUID
    code: str
    attended_at: datetime
    recorded_now: bool = Field(description="False when this person was already checked in")


def _session_out(row: asyncpg.Record) -> dict[str, Any]:
    return {**dict(row), "seats_left": row["capacity"] - row["seats_taken"], "waitlist_length": row["waiting"]}


def run_refusing(action: Action) -> Action:
    """Map the programme's refusals to HTTP answers."""

    async def run(conn: asyncpg.Connection) -> tuple[int, Any]:
        try:
            return await action(conn)
        except programme.NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except programme.ProgrammeConflict as exc:
            raise HTTPException(409, str(exc)) from None
        except Refused as refused:
            raise refusal_to_http(refused) from None
        except registrations.NotConfirmed as exc:
            raise HTTPException(409, str(exc)) from None

    return run


async def _respond(uow: UnitOfWork, request: Request, key: str | None, action: Action) -> JSONResponse:
    return await respond(uow, request, key, run_refusing(action))


@router.post("/workshops", status_code=201, response_model=WorkshopOut)
async def create_workshop(
    body: WorkshopIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        return 201, dict(await programme.create_workshop(conn, programme.Workshop(**body.model_dump())))

    return await _respond(uow, request, idempotency_key, action)


@router.patch("/workshops/{workshop_id}", response_model=WorkshopOut)
async def change_workshop(workshop_id: uuid.UUID, body: WorkshopChange, request: Request, uow: Uow) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        return 200, dict(await programme.change_workshop(conn, workshop_id, body.model_dump(exclude_none=True)))

    return await _respond(uow, request, None, action)


@router.post("/workshops/{workshop_id}/cancel")
async def cancel_workshop(
    workshop_id: uuid.UUID, body: CancelIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        count = await programme.cancel_workshop(conn, workshop_id, body.reason)
        return 200, {"workshop_id": workshop_id, "sessions_cancelled": count}

    return await _respond(uow, request, idempotency_key, action)


@router.post("/sessions", status_code=201, response_model=SessionOut)
async def create_session(
    body: SessionIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        plan = programme.SessionPlan(**body.model_dump(exclude={"workshop_id"}))
        return 201, _session_out(await programme.schedule_session(conn, body.workshop_id, plan))

    return await _respond(uow, request, idempotency_key, action)


@router.post("/coaching-slots", status_code=201, response_model=SessionOut)
async def create_coaching_slot(
    body: CoachingIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        plan = programme.SessionPlan(**body.model_dump(exclude={"coach"}), capacity=1)
        return 201, _session_out(await programme.schedule_coaching(conn, body.coach, plan))

    return await _respond(uow, request, idempotency_key, action)


@router.patch("/sessions/{session_id}", response_model=SessionOut)
async def change_session(session_id: uuid.UUID, body: SessionChange, request: Request, uow: Uow) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        return 200, _session_out(await programme.change_session(conn, session_id, body.model_dump(exclude_none=True)))

    return await _respond(uow, request, None, action)


@router.post("/sessions/{session_id}/cancel")
async def cancel_session(
    session_id: uuid.UUID, body: CancelIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        count = await programme.cancel_session(conn, session_id, body.reason)
        return 200, {"session_id": session_id, "status": "cancelled", "registrations_cancelled": count}

    return await _respond(uow, request, idempotency_key, action)


@router.post("/check-ins", response_model=CheckInOut)
async def check_in(body: CheckInIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None) -> JSONResponse:
    async def action(conn: asyncpg.Connection) -> tuple[int, Any]:
        row, recorded = await registrations.check_in(conn, body.code)
        return 200, {
            "registration_id": row["id"],
            "code": row["code"],
            "attended_at": row["attended_at"],
            "recorded_now": recorded,
        }

    return await _respond(uow, request, idempotency_key, action)


@router.get("/report")
async def report(uow: Uow, settings: SettingsDep) -> dict[str, Any]:
    return await build_report(uow.pool, settings.yearly_target)
