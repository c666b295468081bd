"""Registrations and the session counters in Postgres. Every statement runs in the caller's transaction.

Lock order everywhere: people (advisory, by hash), then session rows (by id), then registration
rows — so concurrent use cases queue instead of deadlocking.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg
from atelier_platform import locks


async def database_now(conn: asyncpg.Connection) -> datetime:
    """The clock every time rule reads: the transaction's start on the database, as `take_places()` sees it."""
    now: datetime = await conn.fetchval("SELECT now()")
    return now


async def lock_people(conn: asyncpg.Connection, emails: list[str]) -> None:
    """Serialises one person's registrations, so two overlapping ones cannot both pass the check."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($2, h) FROM"
        " (SELECT DISTINCT hashtext(lower(email)) AS h FROM unnest($1::text[]) AS email ORDER BY h) AS people",
        emails,
        locks.PERSON,
    )


async def take_places(
    conn: asyncpg.Connection, people_by_session: dict[uuid.UUID, list[dict[str, Any]]]
) -> list[asyncpg.Record]:
    """One take_places() call per session, sessions by id, all in one round trip; rows in that order."""
    rows: list[asyncpg.Record] = await conn.fetchmany(
        "SELECT * FROM take_places($1, $2::jsonb)",
        [(session_id, json.dumps(people_by_session[session_id])) for session_id in sorted_by_id(people_by_session)],
    )
    return rows


def sorted_by_id(session_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The one order in which sessions are locked."""
    return sorted(session_ids, key=lambda session_id: session_id.bytes)


async def registration(conn: asyncpg.Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", registration_id)


async def registration_with_session_end(conn: asyncpg.Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    """The registration, and whether its session has ended by the database's clock."""
    return await conn.fetchrow(
        "SELECT r.*, s.ends_at <= now() AS session_ended FROM registrations r JOIN sessions s ON s.id = r.session_id"
        " WHERE r.id = $1",
        registration_id,
    )


async def registrations_of(conn: asyncpg.Connection, email: str) -> list[asyncpg.Record]:
    found: list[asyncpg.Record] = await conn.fetch(
        "SELECT r.*, s.starts_at FROM registrations r JOIN sessions s ON s.id = r.session_id"
        " WHERE lower(r.email) = lower($1) ORDER BY r.created_at DESC LIMIT 200",
        email,
    )
    return found


async def commands_registered(conn: asyncpg.Connection, command_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await conn.fetch("SELECT command_id FROM registrations WHERE command_id = ANY($1::uuid[])", command_ids)
    return {row["command_id"] for row in rows}


async def lock_session_of(conn: asyncpg.Connection, registration_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM sessions WHERE id = (SELECT session_id FROM registrations WHERE id = $1) FOR UPDATE",
        registration_id,
    )


async def lock_registration(conn: asyncpg.Connection, registration_id: uuid.UUID) -> asyncpg.Record:
    return await conn.fetchrow("SELECT * FROM registrations WHERE id = $1 FOR UPDATE", registration_id)


async def lock_active_of_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT * FROM registrations WHERE session_id = $1 AND status IN ('confirmed', 'waitlisted')"
        " ORDER BY created_at FOR UPDATE",
        session_id,
    )
    return rows


async def mark_cancelled(
    conn: asyncpg.Connection, registration_ids: list[uuid.UUID], *, by: str, reason: str | None
) -> None:
    await conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, cancel_reason = $3"
        " WHERE id = ANY($1::uuid[])",
        registration_ids,
        by,
        reason,
    )


async def move_counters(
    conn: asyncpg.Connection, session_id: uuid.UUID, *, seats: int = 0, waiting: int = 0
) -> asyncpg.Record:
    """Add to the session's seats taken and people waiting; returns the session."""
    return await conn.fetchrow(
        "UPDATE sessions SET seats_taken = seats_taken + $2, waiting = waiting + $3 WHERE id = $1 RETURNING *",
        session_id,
        seats,
        waiting,
    )


async def confirm_first_in_line(conn: asyncpg.Connection, session_id: uuid.UUID, count: int) -> list[asyncpg.Record]:
    """The first `count` people waiting get their seat; returned in line order."""
    rows = await conn.fetch(
        "UPDATE registrations r SET status = 'confirmed' FROM"
        " (SELECT id FROM registrations WHERE session_id = $1 AND status = 'waitlisted'"
        "  ORDER BY waitlist_seq LIMIT $2 FOR UPDATE) AS first"
        " WHERE r.id = first.id RETURNING r.*",
        session_id,
        count,
    )
    return sorted(rows, key=lambda row: row["waitlist_seq"])


async def waitlist_position(conn: asyncpg.Connection, registration: asyncpg.Record) -> int | None:
    if registration["status"] != "waitlisted":
        return None
    position: int = await conn.fetchval(
        "SELECT count(*) FROM registrations WHERE session_id = $1 AND status = 'waitlisted' AND waitlist_seq <= $2",
        registration["session_id"],
        registration["waitlist_seq"],
    )
    return position


async def lock_by_code(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM registrations WHERE code = $1 FOR UPDATE", code.upper())


async def mark_attended(conn: asyncpg.Connection, registration_id: uuid.UUID) -> asyncpg.Record:
    return await conn.fetchrow(
        "UPDATE registrations SET attended_at = now() WHERE id = $1 RETURNING *", registration_id
    )
