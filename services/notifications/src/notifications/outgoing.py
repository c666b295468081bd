"""Recording a message to send: once per cause and kind, with a Message-ID derived from both."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg
from atelier_platform.telemetry import current_traceparent

_MESSAGE_ID_NAMESPACE = uuid.UUID("4d0f6c52-7a0e-4f5e-9a43-1c2b9e6f8d11")


def message_id_for(cause: str, kind: str) -> str:
    """Stable across redeliveries and retries: derived from what caused the message."""
    return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, f'{cause}/{kind}')}@atelier.brussels>"


def cause_for_registration(event_id: str, registration_id: uuid.UUID) -> str:
    """The cause of one of the messages an event about many registrations (a session change) fans out to."""
    return f"{event_id}/{registration_id}"


def reminder_cause(registration_id: uuid.UUID) -> str:
    """A registration has one reminder, ever: its cause is the registration itself."""
    return f"reminder/{registration_id}"


async def queue_message(
    conn: asyncpg.Connection,
    *,
    cause: str,
    kind: str,
    registration_id: uuid.UUID,
    caused_at: datetime,
    context: dict[str, Any],
) -> None:
    """Record a pending message in the caller's transaction; a second call for the same cause does nothing."""
    await conn.execute(
        "INSERT INTO messages (id, event_id, kind, registration_id, message_id, context, caused_at, traceparent)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id, kind) DO NOTHING",
        uuid.uuid4(),
        cause,
        kind,
        registration_id,
        message_id_for(cause, kind),
        json.dumps(context),
        caused_at,
        current_traceparent(),  # the send continues the trace of the event that caused it
    )
