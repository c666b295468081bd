"""What notifications does with each event: keep the contact, queue the message."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from atelier_schemas import CloudEvent, RegistrationConfirmed, TicketIssued

_MESSAGE_ID_NAMESPACE = uuid.UUID("4d0f6c52-7a0e-4f5e-9a43-1c2b9e6f8d11")


def message_id_for(event_id: str, kind: str) -> str:
    """Stable across redeliveries and retries: derived from what caused the message."""
    return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, f'{event_id}/{kind}')}@atelier.brussels>"


async def queue_message(
    conn: asyncpg.Connection,
    event: CloudEvent,
    kind: str,
    registration_id: uuid.UUID,
    context: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO messages (id, event_id, kind, registration_id, message_id, context)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id, kind) DO NOTHING",
        uuid.uuid4(),
        event.id,
        kind,
        registration_id,
        message_id_for(event.id, kind),
        json.dumps(context),
    )


async def on_registration_confirmed(
    conn: asyncpg.Connection, event: CloudEvent, confirmed: RegistrationConfirmed
) -> None:
    participant = confirmed.participant
    await conn.execute(
        "INSERT INTO contacts (registration_id, name, email, language) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (registration_id) DO UPDATE SET name = excluded.name,"
        " email = excluded.email, language = excluded.language, updated_at = now()",
        confirmed.registration_id,
        participant.name,
        str(participant.email),
        participant.language,
    )
    await queue_message(
        conn,
        event,
        "registration_confirmed",
        confirmed.registration_id,
        {
            "code": confirmed.registration_code,
            **confirmed.session.model_dump(mode="json"),
        },
    )


async def on_ticket_issued(conn: asyncpg.Connection, event: CloudEvent, issued: TicketIssued) -> None:
    # The contact may not be known yet (another topic); delivery waits for it.
    await queue_message(conn, event, "voucher_issued", issued.registration_id, issued.model_dump(mode="json"))
