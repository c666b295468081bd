"""Recording a message to send: once per cause and kind, with a Message-ID derived from both."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
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


_COLUMNS = "id, event_id, kind, registration_id, message_id, context, caused_at, traceparent"
_ONCE_PER_CAUSE = "ON CONFLICT (event_id, kind) DO NOTHING"


@dataclass(frozen=True)
class Outgoing:
    """A message to queue: what caused it, its kind, for whom, when, and what it says."""

    cause: str
    kind: str
    registration_id: uuid.UUID
    caused_at: datetime
    context: dict[str, Any]

    def row(self) -> tuple[Any, ...]:
        """Its pending row's values, in the order of the columns queue_after names."""
        return (
            uuid.uuid4(),
            self.cause,
            self.kind,
            self.registration_id,
            message_id_for(self.cause, self.kind),
            json.dumps(self.context),
            self.caused_at,
            current_traceparent(),  # the send continues the trace of the event that caused it
        )


def queue_after(news: str, first: int) -> str:
    """A CTE queueing the message whose row is in parameters `first` on, once per row of the CTE `news`:
    a projection's change and the message it causes in one statement."""
    values = ", ".join(f"${n}" for n in range(first, first + 8))
    return f"queued AS (INSERT INTO messages ({_COLUMNS}) SELECT {values} FROM {news} {_ONCE_PER_CAUSE})"


async def queue_message(conn: asyncpg.Connection, message: Outgoing) -> None:
    """Record a pending message in the caller's transaction; a second call for the same cause does nothing."""
    await conn.execute(
        f"INSERT INTO messages ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) {_ONCE_PER_CAUSE}", *message.row()
    )
