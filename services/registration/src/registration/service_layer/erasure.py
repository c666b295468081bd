"""Erasing a person: anonymise their registrations here, tell the other services, follow their confirmations.

A person is an email address. Their registrations keep status, session, profile and attendance —
the yearly report counts them — under a stand-in address that is the same for every erasure of the
same address (an HMAC of it), so the count of distinct people does not change. See docs/adr/0007.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from atelier_platform import outbox
from atelier_platform.anonymise import ERASED_NAME, erased_email, scrub_outbox
from atelier_schemas import PersonErased

from .. import SOURCE
from ..adapters import erasures_sql as sql
from ..adapters import registrations_sql

SERVICE = "registration"
# Every service that holds personal data and confirms its part.
CONFIRMING = ("registration", "ticketing", "notifications")


@dataclass(frozen=True)
class Erasure:
    erasure_id: uuid.UUID
    registrations: int  # anonymised by this request; 0 when an earlier erasure had done it all


async def erase(conn: asyncpg.Connection, email: str, *, command_id: uuid.UUID | None = None) -> Erasure:
    """Anonymise every registration under `email` and announce it; a repeat returns the earlier erasure."""
    if command_id is not None and (done := await sql.by_command(conn, command_id)) is not None:
        return Erasure(done, 0)  # the same command again
    await registrations_sql.lock_people(conn, [email])  # no registration of theirs slips in meanwhile
    subject = hmac.new(await sql.subject_key(conn), email.lower().encode(), hashlib.sha256).digest()
    rows = await sql.registrations_of(conn, email)
    if not rows and (earlier := await sql.latest_for(conn, subject)) is not None:
        return Erasure(earlier, 0)
    erasure_id = uuid.uuid4()
    ids = [row["id"] for row in rows]
    await sql.anonymise_registrations(
        conn, ids, name=ERASED_NAME, email=erased_email(subject.hex()[:20]), fallback_email=erased_email(erasure_id.hex)
    )
    await sql.forget_answers(conn, ids)
    await scrub_outbox(conn, [str(i) for i in ids], replacements(rows, subject))
    await sql.record(conn, erasure_id, subject, ids, command_id)
    await sql.confirm(conn, erasure_id, SERVICE)
    await outbox.append(conn, PersonErased(erasure_id=erasure_id, registration_ids=ids), source=SOURCE)
    return Erasure(erasure_id, len(ids))


def replacements(rows: list[asyncpg.Record], subject: bytes) -> dict[str, str]:
    """Each personal value of the person's rows, and what stands in for it."""
    stand_in = {"name": ERASED_NAME, "email": erased_email(subject.hex()[:20]), "phone": "", "company": ""}
    return {row[field]: value for row in rows for field, value in stand_in.items() if row[field]}


async def confirmed(conn: asyncpg.Connection, erasure_id: uuid.UUID, service: str) -> None:
    await sql.confirm(conn, erasure_id, service)


async def status(conn: asyncpg.Connection | asyncpg.Pool, erasure_id: uuid.UUID) -> dict[str, Any] | None:
    """The erasure and, per service, when it confirmed (null while it has not)."""
    row = await sql.erasure(conn, erasure_id)
    if row is None:
        return None
    confirmations = json.loads(row["confirmations"])
    services = {service: confirmations.get(service) for service in CONFIRMING}
    return {
        "erasure_id": row["id"],
        "requested_at": row["requested_at"],
        "registrations": row["registrations"],
        "services": services,
        "complete": all(services.values()),
    }
