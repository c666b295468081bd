"""Use cases of a registration's life. Each runs inside the caller's transaction.

Lock order everywhere: the participant's email (advisory), then the session row, then
registration rows — so concurrent use cases queue instead of deadlocking.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from atelier_platform import locks, outbox
from atelier_schemas import AttendanceRecorded

from . import SOURCE, events
from .codes import new_registration_code
from .domain import Refusal, Refused


@dataclass(frozen=True)
class NewRegistration:
    name: str
    email: str
    language: str
    wants_voucher: bool = False
    origin_station_id: str | None = None
    phone: str | None = None
    profile: str = "other"
    company: str | None = None
    consent_to_contact: bool = False


@dataclass(frozen=True)
class Registered:
    registration_id: uuid.UUID
    code: str
    status: str
    waitlist_position: int | None
    manage_token: str


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def manage_url(public_url: str, registration_id: uuid.UUID, token: str) -> str:
    return f"{public_url.rstrip('/')}/registrations/{registration_id}?token={token}"


@dataclass(frozen=True)
class Application:
    """One request for a place; `command_id` when it came as a Kafka command.

    `correlation_id` when it is decided away from its request's context (in a batch).
    """

    session_id: uuid.UUID
    who: NewRegistration
    command_id: uuid.UUID | None = None
    correlation_id: str | None = None


async def register_many(
    conn: asyncpg.Connection, applications: Sequence[Application], *, public_url: str
) -> list[Registered | Refusal]:
    """Give each application a seat, a place in the waiting line, or a refusal, in the caller's transaction.

    Applications for one session are served in the given order. Locks are taken people first (by
    hash), then sessions (by id), so concurrent batches queue instead of deadlocking.
    One take_places() call per session, all sent in one round trip.
    """
    # Serialises one person's registrations, so two overlapping ones cannot both pass the check.
    await conn.execute(
        "SELECT pg_advisory_xact_lock($2, h) FROM"
        " (SELECT DISTINCT hashtext(lower(email)) AS h FROM unnest($1::text[]) AS email ORDER BY h) AS people",
        [a.who.email for a in applications],
        locks.PERSON,
    )
    places: dict[uuid.UUID, list[tuple[int, dict[str, Any]]]] = {}  # session id -> its people, in order
    tokens = {}
    for i, a in enumerate(applications):
        registration_id = uuid.uuid4()
        tokens[registration_id] = token = secrets.token_urlsafe(24)
        person = {
            **asdict(a.who),
            "id": str(registration_id),
            "code": new_registration_code(),
            "manage_token_hash": token_hash(token).hex(),
            "command_id": None if a.command_id is None else str(a.command_id),
        }
        places.setdefault(a.session_id, []).append((i, person))
    sessions = sorted(places, key=lambda session_id: session_id.bytes)
    rows = await conn.fetchmany(
        "SELECT * FROM take_places($1, $2::jsonb)",
        [(session_id, json.dumps([person for _, person in places[session_id]])) for session_id in sessions],
    )
    outcomes: list[Registered | Refusal] = [Refusal.UNKNOWN_SESSION] * len(applications)
    messages, correlations = [], []
    people = [(session_id, i, person) for session_id in sessions for i, person in places[session_id]]
    for (session_id, i, person), row in zip(people, rows, strict=True):
        if row["outcome"] not in ("confirmed", "waitlisted"):
            outcomes[i] = Refusal(row["outcome"])
            continue
        registration_id = row["registration_id"]
        registration = {**person, "id": registration_id}
        session = {**row, "id": session_id}
        url = manage_url(public_url, registration_id, tokens[registration_id])
        if row["outcome"] == "confirmed":
            messages.append(events.confirmed(registration, session, url))
        else:
            messages.append(events.waitlisted(registration, session, row["waitlist_position"], url))
        correlations.append(applications[i].correlation_id)
        outcomes[i] = Registered(
            registration_id, person["code"], row["outcome"], row["waitlist_position"], tokens[registration_id]
        )
    if messages:
        await outbox.append_many(conn, messages, source=SOURCE, correlation_ids=correlations)
    return outcomes


async def register(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    new: NewRegistration,
    *,
    public_url: str,
    command_id: uuid.UUID | None = None,
) -> Registered:
    """Take a seat, or a place in the waiting line when the session is full; raises Refused."""
    [outcome] = await register_many(conn, [Application(session_id, new, command_id)], public_url=public_url)
    if isinstance(outcome, Refusal):
        raise Refused(outcome)
    return outcome


async def waitlist_position(conn: asyncpg.Connection, registration: asyncpg.Record) -> int | None:
    if registration["status"] != "waitlisted":
        return None
    return await conn.fetchval(
        "SELECT count(*) FROM registrations WHERE session_id = $1 AND status = 'waitlisted' AND waitlist_seq <= $2",
        registration["session_id"],
        registration["waitlist_seq"],
    )


async def cancel(
    conn: asyncpg.Connection,
    registration_id: uuid.UUID,
    *,
    by: str,
    reason: str | None = None,
) -> bool:
    """Cancel one registration; a freed seat goes to the first in line. False if already cancelled."""
    session_id = await conn.fetchval("SELECT session_id FROM registrations WHERE id = $1", registration_id)
    if session_id is None:
        raise Refused(Refusal.UNKNOWN_REGISTRATION)
    session = await conn.fetchrow("SELECT * FROM sessions WHERE id = $1 FOR UPDATE", session_id)
    registration = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1 FOR UPDATE", registration_id)
    if registration["status"] == "cancelled":
        return False
    if by == "participant" and session["starts_at"] <= datetime.now(UTC):
        raise Refused(Refusal.SESSION_STARTED)
    await _cancel_locked(conn, registration, session, by=by, reason=reason)
    if registration["status"] == "confirmed":
        session = await conn.fetchrow(
            "UPDATE sessions SET seats_taken = seats_taken - 1 WHERE id = $1 RETURNING *", session_id
        )
        await promote_waiting(conn, session)
    else:
        await conn.execute("UPDATE sessions SET waiting = waiting - 1 WHERE id = $1", session_id)
    return True


async def _cancel_locked(
    conn: asyncpg.Connection, registration: asyncpg.Record, session: asyncpg.Record, *, by: str, reason: str | None
) -> None:
    await conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, cancel_reason = $3"
        " WHERE id = $1",
        registration["id"],
        by,
        reason,
    )
    event = events.cancelled(registration, session, by=by, reason=reason, previous=registration["status"])
    await outbox.append(conn, event, source=SOURCE)


async def cancel_all(conn: asyncpg.Connection, session: asyncpg.Record, reason: str) -> int:
    """The organiser cancelled the session (row locked by the caller): every registration goes, each with its event."""
    active = await conn.fetch(
        "SELECT * FROM registrations WHERE session_id = $1 AND status IN ('confirmed', 'waitlisted')"
        " ORDER BY created_at FOR UPDATE",
        session["id"],
    )
    for registration in active:
        await _cancel_locked(conn, registration, session, by="organiser", reason=reason)
    await conn.execute("UPDATE sessions SET seats_taken = 0, waiting = 0 WHERE id = $1", session["id"])
    return len(active)


async def promote_waiting(conn: asyncpg.Connection, session: asyncpg.Record) -> int:
    """Give free seats to the first in line (session row locked by the caller); returns how many moved up."""
    promoted = 0
    while (
        session["status"] == "scheduled"
        and session["starts_at"] > datetime.now(UTC)
        and session["seats_taken"] < session["capacity"]
    ):
        first = await conn.fetchrow(
            "UPDATE registrations SET status = 'confirmed'"
            " WHERE id = (SELECT id FROM registrations WHERE session_id = $1 AND status = 'waitlisted'"
            "             ORDER BY waitlist_seq LIMIT 1 FOR UPDATE) RETURNING *",
            session["id"],
        )
        if first is None:
            break
        session = await conn.fetchrow(
            "UPDATE sessions SET seats_taken = seats_taken + 1, waiting = waiting - 1 WHERE id = $1 RETURNING *",
            session["id"],
        )
        await outbox.append(conn, events.promoted(first, session), source=SOURCE)
        promoted += 1
    return promoted


async def check_in(conn: asyncpg.Connection, code: str) -> tuple[asyncpg.Record, bool]:
    """Record attendance once; returns the registration and whether this call recorded it."""
    registration = await conn.fetchrow("SELECT * FROM registrations WHERE code = $1 FOR UPDATE", code.upper())
    if registration is None:
        raise Refused(Refusal.UNKNOWN_REGISTRATION)
    if registration["status"] != "confirmed":
        raise NotConfirmed(registration["status"])
    if registration["attended_at"] is not None:
        return registration, False
    registration = await conn.fetchrow(
        "UPDATE registrations SET attended_at = now() WHERE id = $1 RETURNING *", registration["id"]
    )
    await outbox.append(
        conn,
        AttendanceRecorded(
            registration_id=registration["id"],
            session_id=registration["session_id"],
            attended_at=registration["attended_at"],
        ),
        source=SOURCE,
    )
    return registration, True


class NotConfirmed(Exception):
    """Only a confirmed registration can be checked in."""

    def __init__(self, status: str) -> None:
        super().__init__(f"registration is {status}, not confirmed")
