"""HTTP API: the public programme and registration, and the admin API."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from . import service

Language = Literal["fr", "nl", "en"]
router = APIRouter()
bearer = HTTPBearer(auto_error=False)


def require_admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "admin token required", headers={"WWW-Authenticate": "Bearer"}
        )
    expected = request.app.state.settings.admin_token.get_secret_value()
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin token not valid")


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, examples=["SEO basics"])
    starts_at: AwareDatetime = Field(examples=["2027-01-12T10:00:00+01:00"])
    ends_at: AwareDatetime = Field(examples=["2027-01-12T12:00:00+01:00"])
    room: str = Field(min_length=1, max_length=100, examples=["Room 2"])
    language: Language
    capacity: int = Field(gt=0, le=1000, examples=[25])

    @model_validator(mode="after")
    def ends_after_start(self) -> SessionIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class SessionOut(BaseModel):
    id: uuid.UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    language: Language
    capacity: int
    seats_left: int


class RegistrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Lena Peeters"])
    email: EmailStr = Field(examples=["lena@example.be"])
    language: Language = Field(description="Language of the emails the participant gets")
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
    status: str


@router.get("/sessions", response_model=list[SessionOut], tags=["programme"])
async def list_sessions(request: Request) -> list[dict]:
    rows = await request.app.state.runtime.pool.fetch(
        "SELECT *, capacity - seats_taken AS seats_left FROM sessions WHERE ends_at > now() ORDER BY starts_at"
    )
    return [dict(r) for r in rows]


@router.post(
    "/admin/sessions", status_code=201, response_model=SessionOut, tags=["admin"], dependencies=[Depends(require_admin)]
)
async def create_session(body: SessionIn, request: Request) -> dict:
    session_id = await service.schedule_session(request.app.state.runtime.pool, service.NewSession(**body.model_dump()))
    return {"id": session_id, **body.model_dump(), "seats_left": body.capacity}


@router.post(
    "/sessions/{session_id}/registrations",
    status_code=201,
    response_model=RegistrationOut,
    tags=["registration"],
    responses={404: {"description": "Unknown session"}, 409: {"description": "Session full, or already registered"}},
)
async def register(session_id: uuid.UUID, body: RegistrationIn, request: Request) -> dict:
    runtime = request.app.state.runtime
    try:
        registration_id, code = await service.register(
            runtime.pool, session_id, service.NewRegistration(**body.model_dump())
        )
    except service.SessionNotFound:
        raise HTTPException(404, f"session {session_id} does not exist") from None
    except service.SessionFull:
        raise HTTPException(409, "session is full") from None
    except service.AlreadyRegistered:
        raise HTTPException(409, "this email is already registered for this session") from None
    runtime.relay.wake()
    return {"registration_id": registration_id, "code": code, "session_id": session_id, "status": "confirmed"}


@router.get("/registrations/{registration_id}", response_model=RegistrationOut, tags=["registration"])
async def get_registration(registration_id: uuid.UUID, request: Request) -> dict:
    row = await request.app.state.runtime.pool.fetchrow(
        "SELECT id AS registration_id, code, session_id, status FROM registrations WHERE id = $1",
        registration_id,
    )
    if row is None:
        raise HTTPException(404, f"registration {registration_id} does not exist")
    return dict(row)
