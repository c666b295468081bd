"""Admin API: what was sent to a registration, when, and what failed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from atelier_platform.http import bearer_token
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from .delivery import requeue_failed

router = APIRouter()
require_admin = bearer_token("admin", "admin_token")


class MessageOut(BaseModel):
    message_id: str = Field(description="The email's Message-ID.", examples=["<5f0e…@atelier.brussels>"])
    kind: str = Field(examples=["registration_confirmed"])
    status: Literal["pending", "sent", "failed", "cancelled"]
    subject: str | None = Field(description="As sent (or last tried); none before the first attempt.")
    attempts: int
    last_error: str | None = Field(description="The last SMTP error, if any.", examples=["550 mailbox unavailable"])
    created_at: datetime = Field(description="When the message was queued.")
    next_attempt_at: datetime | None = Field(description="When it will be tried again, while pending.")
    sent_at: datetime | None


class ReminderOut(BaseModel):
    due_at: datetime
    status: Literal["scheduled", "queued", "cancelled", "expired"]


class MessagesOut(BaseModel):
    registration_id: uuid.UUID
    messages: list[MessageOut] = Field(description="Oldest first.")
    reminder: ReminderOut | None = Field(description="The reminder before the session, if one was planned.")


@router.get(
    "/admin/messages",
    response_model=MessagesOut,
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={401: {"description": "No token"}, 403: {"description": "Wrong token"}},
)
async def list_messages(registration_id: Annotated[uuid.UUID, Query()], request: Request) -> dict[str, Any]:
    pool = request.app.state.runtime.pool
    messages = await pool.fetch(
        "SELECT message_id, kind, status, subject, attempts, last_error, created_at, sent_at,"
        " CASE WHEN status = 'pending' THEN next_attempt_at END AS next_attempt_at"
        " FROM messages WHERE registration_id = $1 ORDER BY caused_at, created_at",
        registration_id,
    )
    reminder = await pool.fetchrow("SELECT due_at, status FROM reminders WHERE registration_id = $1", registration_id)
    return {
        "registration_id": registration_id,
        "messages": [dict(m) for m in messages],
        "reminder": dict(reminder) if reminder else None,
    }


class RequeuedOut(BaseModel):
    requeued: int = Field(description="Failed messages now pending again, due at once.", examples=[3])


@router.post(
    "/admin/messages/requeue",
    response_model=RequeuedOut,
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={401: {"description": "No token"}, 403: {"description": "Wrong token"}},
)
async def requeue(request: Request, registration_id: Annotated[uuid.UUID | None, Query()] = None) -> dict[str, int]:
    """Send failed messages again (of one registration, or all), each with a new time window, e.g. after
    fixing the SMTP settings or an address. They keep their Message-ID."""
    return {"requeued": await requeue_failed(request.app.state.runtime.pool, registration_id)}
