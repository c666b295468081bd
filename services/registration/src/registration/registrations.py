"""Use cases of a registration's life. Each runs inside the caller's transaction.

Lock order everywhere: the participant's email (advisory), then the session row, then
registration rows — so concurrent use cases queue instead of deadlocking.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from atelier_platform import outbox
from atelier_schemas import AttendanceRecorded

from . import SOURCE, events
from .codes import new_registration_code
from .domain import Refusal, Refused, open_for_registration


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


async def register(
    conn: asyncpg.Connection,
    session_id: uuid.UUID,
    new: NewRegistration,
    *,
    public_url: str,
    command_id: uuid.UUID | None = None,
) -> Registered:
    """Take a seat, or a place in the waiting line when the session is full."""
    # Serialises one person's registrations, so two overlapping ones cannot both pass the check.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(lower($1)))", new.email)
    session = await conn.fetchrow(
        "SELECT s.status, s.starts_at, EXISTS ("
        "  SELECT FROM registrations r JOIN sessions o ON o.id = r.session_id"
        "  WHERE lower(r.email) = lower($2) AND r.status IN ('confirmed', 'waitlisted')"
        "  AND (r.session_id = s.id OR (o.starts_at < s.ends_at AND o.ends_at > s.starts_at))"
        ") AS clash FROM sessions s WHERE s.id = $1",
        session_id,
        new.email,
    )
    if session is None:
        raise Refused(Refusal.UNKNOWN_SESSION)
    if reason := open_for_registration(session["status"], session["starts_at"], datetime.now(UTC)):
        raise Refused(reason)
    if session["clash"]:
        raise Refused(Refusal.ALREADY_REGISTERED)

    # Atomic conditional updates: the row lock they take makes capacity a hard limit.
    session = await conn.fetchrow(
        "UPDATE sessions SET seats_taken = seats_taken + 1"
        " WHERE id = $1 AND status = 'scheduled' AND starts_at > now() AND seats_taken < capacity RETURNING *",
        session_id,
    )
    status, waitlist_seq, position = "confirmed", None, None
    if session is None:
        session = await conn.fetchrow(
            "UPDATE sessions SET waiting = waiting + 1, waitlist_seq = waitlist_seq + 1"
            " WHERE id = $1 AND status = 'scheduled' AND starts_at > now() RETURNING *",
            session_id,
        )
        if session is None:  # cancelled or started meanwhile
            current = await conn.fetchrow("SELECT status, starts_at FROM sessions WHERE id = $1", session_id)
            raise Refused(
                open_for_registration(current["status"], current["starts_at"], datetime.now(UTC))
                or Refusal.SESSION_CANCELLED
            )
        status, waitlist_seq, position = "waitlisted", session["waitlist_seq"], session["waiting"]

    token = secrets.token_urlsafe(24)
    registration = await conn.fetchrow(
        "INSERT INTO registrations (id, code, session_id, name, email, language, wants_voucher,"
        " origin_station_id, phone, profile, company, consent_to_contact, manage_token_hash,"
        " status, waitlist_seq, command_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *",
        uuid.uuid4(),
        new_registration_code(),
        session_id,
        new.name,
        new.email,
        new.language,
        new.wants_voucher,
        new.origin_station_id,
        new.phone,
        new.profile,
        new.company,
        new.consent_to_contact,
        token_hash(token),
        status,
        waitlist_seq,
        command_id,
    )
    url = manage_url(public_url, registration["id"], token)
    if status == "confirmed":
        event = events.confirmed(registration, session, url)
    else:
        event = events.waitlisted(registration, session, position, url)
    await outbox.append(conn, event, source=SOURCE)
    return Registered(registration["id"], registration["code"], status, position, token)


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
