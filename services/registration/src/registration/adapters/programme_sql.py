"""Workshops and sessions in Postgres. Every statement runs in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from ..domain import BRUSSELS


async def insert(conn: asyncpg.Connection, table: str, fields: dict[str, Any]) -> asyncpg.Record:
    """A new row with a new id (column names come from our own dataclasses, never from raw input)."""
    columns = ", ".join(fields)
    values = ", ".join(f"${i}" for i in range(2, len(fields) + 2))
    return await conn.fetchrow(
        f"INSERT INTO {table} (id, {columns}) VALUES ($1, {values}) RETURNING *", uuid.uuid4(), *fields.values()
    )


async def update_row(
    conn: asyncpg.Connection, table: str, row_id: uuid.UUID, changes: dict[str, Any]
) -> asyncpg.Record | None:
    """Set the changed columns (names come from the API's validated models, never from raw input)."""
    if not changes:
        return await conn.fetchrow(f"SELECT * FROM {table} WHERE id = $1", row_id)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    return await conn.fetchrow(f"UPDATE {table} SET {assignments} WHERE id = $1 RETURNING *", row_id, *changes.values())


async def workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM workshops WHERE id = $1", workshop_id)


async def lock_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM sessions WHERE id = $1 FOR UPDATE", session_id)


async def session_exists(conn: asyncpg.Connection, session_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval("SELECT true FROM sessions WHERE id = $1", session_id))


async def mark_session_cancelled(conn: asyncpg.Connection, session_id: uuid.UUID, reason: str) -> asyncpg.Record | None:
    """The session, now cancelled; None when it does not exist or already was."""
    return await conn.fetchrow(
        "UPDATE sessions SET status = 'cancelled', cancel_reason = $2 WHERE id = $1 AND status = 'scheduled'"
        " RETURNING *",
        session_id,
        reason,
    )


async def lock_upcoming_sessions_of(conn: asyncpg.Connection, workshop_id: uuid.UUID) -> list[uuid.UUID]:
    """Every session of the workshop still to come, locked in the one session order (by id), as batches do."""
    rows = await conn.fetch(
        "SELECT id FROM sessions WHERE workshop_id = $1 AND status = 'scheduled' AND starts_at > now()"
        " ORDER BY id FOR UPDATE",
        workshop_id,
    )
    return [row["id"] for row in rows]


async def session_by_id(pool: asyncpg.Pool, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT *, capacity - seats_taken AS seats_left, waiting AS waitlist_length FROM sessions WHERE id = $1",
        session_id,
    )


async def list_sessions(
    pool: asyncpg.Pool,
    *,
    date_from: date | None,
    date_to: date | None,
    topic: str | None,
    language: str | None,
    with_seats_left: bool,
) -> list[asyncpg.Record]:
    """Upcoming scheduled sessions matching the filter, soonest first."""
    start = datetime.combine(date_from, time(), BRUSSELS) if date_from else None
    end = datetime.combine(date_to + timedelta(days=1), time(), BRUSSELS) if date_to else None
    rows: list[asyncpg.Record] = await pool.fetch(
        "SELECT *, capacity - seats_taken AS seats_left, waiting AS waitlist_length FROM sessions"
        " WHERE status = 'scheduled' AND ends_at > now()"
        " AND ($1::timestamptz IS NULL OR starts_at >= $1) AND ($2::timestamptz IS NULL OR starts_at < $2)"
        " AND ($3::text IS NULL OR (CASE WHEN kind = 'coaching' THEN 'coaching' ELSE topic END) = $3)"
        " AND ($4::text IS NULL OR language = $4)"
        " AND (NOT $5 OR seats_taken < capacity)"
        " ORDER BY starts_at LIMIT 500",
        start,
        end,
        topic,
        language,
        with_seats_left,
    )
    return rows
