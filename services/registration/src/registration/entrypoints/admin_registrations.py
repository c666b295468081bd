"""Admin HTTP API on single registrations: find a person's registrations, cancel one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
from atelier_schemas.limits import Email
from atelier_schemas.vocabulary import Language
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..service_layer import registrations
from .admin_http import CancelIn, require_admin, run_refusing
from .dependencies import Uow
from .responses import IdempotencyKey, respond

router = APIRouter(
    prefix="/admin/registrations",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={401: {"description": "No admin token"}, 403: {"description": "Wrong admin token"}},
)


class PersonRegistrationOut(BaseModel):
    registration_id: uuid.UUID
    code: str
    session_id: uuid.UUID
    starts_at: datetime = Field(description="When the session starts")
    status: Literal["confirmed", "waitlisted", "cancelled"]
    name: str
    email: str
    language: Language
    registered_at: datetime
    cancelled_at: datetime | None
    cancelled_by: Literal["participant", "organiser"] | None


class OrganiserCancelOut(BaseModel):
    registration_id: uuid.UUID
    status: Literal["cancelled"]
    cancelled_now: bool = Field(description="False when it was already cancelled: nothing else happened")


@router.get("", response_model=list[PersonRegistrationOut])
async def registrations_of(
    uow: Uow, email: Annotated[Email, Query(description="The person's email address (any letter case)")]
) -> list[PersonRegistrationOut]:
    """A person's registrations, newest first (at most 200)."""
    async with uow.pool.acquire() as conn:
        rows = await registrations.by_email(conn, email)
    return [
        PersonRegistrationOut(
            **{name: row[name] for name in ("code", "session_id", "starts_at", "status", "name", "email", "language")},
            registration_id=row["id"],
            registered_at=row["created_at"],
            cancelled_at=row["cancelled_at"],
            cancelled_by=row["cancelled_by"],
        )
        for row in rows
    ]


@router.post(
    "/{registration_id}/cancel",
    response_model=OrganiserCancelOut,
    responses={404: {"description": "Unknown registration"}},
)
async def cancel_registration(
    registration_id: uuid.UUID, body: CancelIn, request: Request, uow: Uow, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Cancel one registration (idempotent): a freed seat goes to the first in line, each with its event."""

    async def action(conn: asyncpg.Connection) -> tuple[int, dict[str, object]]:
        cancelled = await registrations.cancel(conn, registration_id, by="organiser", reason=body.reason)
        return 200, {"registration_id": registration_id, "status": "cancelled", "cancelled_now": cancelled}

    return await respond(uow, request, idempotency_key, run_refusing(action))
