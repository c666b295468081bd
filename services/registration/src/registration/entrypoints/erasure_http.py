"""Admin HTTP API for erasing a person (bearer token): ask for it, then follow the services' confirmations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from atelier_schemas.limits import EventEmail
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..service_layer import erasure
from .admin_http import require_admin
from .dependencies import Uow
from .responses import respond

router = APIRouter(
    prefix="/admin/people",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={401: {"description": "No admin token"}, 403: {"description": "Wrong admin token"}},
)


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EventEmail = Field(description="The address the person registered with.", examples=["lena@example.be"])


class ErasureAccepted(BaseModel):
    erasure_id: uuid.UUID = Field(description="Follow it at GET /admin/people/erasures/{erasure_id}.")
    registrations: int = Field(description="Registrations anonymised now; 0 when an earlier erasure did it all.")


class ErasureOut(BaseModel):
    erasure_id: uuid.UUID
    requested_at: datetime
    registrations: int = Field(description="Registrations of the person that the erasure anonymised.")
    services: dict[str, datetime | None] = Field(
        description="Per service holding personal data: when it confirmed its part, null while it has not."
    )
    complete: bool = Field(description="Every service confirmed.")


@router.post("/erase", status_code=202, response_model=ErasureAccepted)
async def erase_person(body: EraseIn, request: Request, uow: Uow) -> JSONResponse:
    """Anonymise the person's registrations now and ask every service to erase its part; the same address
    again answers the same erasure. No Idempotency-Key: the request is idempotent by itself, and a kept
    request would be a copy of the address."""

    async def action(conn: asyncpg.Connection) -> tuple[int, dict[str, object]]:
        done = await erasure.erase(conn, body.email)
        return 202, {"erasure_id": done.erasure_id, "registrations": done.registrations}

    return await respond(uow, request, None, action)


@router.get("/erasures/{erasure_id}", response_model=ErasureOut, responses={404: {"description": "Unknown erasure"}})
async def erasure_status(erasure_id: uuid.UUID, uow: Uow) -> dict[str, Any]:
    found = await erasure.status(uow.pool, erasure_id)
    if found is None:
        raise HTTPException(404, "no such erasure")
    return found
