"""Erasures in Postgres: the person's rows, the erasure record, the confirmations. In the caller's transaction."""

from __future__ import annotations

import uuid

import asyncpg


async def subject_key(conn: asyncpg.Connection) -> bytes:
    found: bytes = await conn.fetchval("SELECT key FROM erasure_key")
    return found


async def registrations_of(conn: asyncpg.Connection, email: str) -> list[asyncpg.Record]:
    """Every registration under this address, whatever its status, locked."""
    found: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, name, email, phone, company FROM registrations WHERE lower(email) = lower($1)"
        " ORDER BY created_at FOR UPDATE",
        email,
    )
    return found


async def anonymise_registrations(
    conn: asyncpg.Connection, registration_ids: list[uuid.UUID], *, name: str, email: str, fallback_email: str
) -> None:
    """Status, session, profile, voucher wish and attendance stay: the report's counts are made of them.

    `fallback_email` where `email` would give a session two active registrations under one address (the
    person registered again after an earlier erasure, for a session they still held a place in).
    """
    await conn.execute(
        "UPDATE registrations r SET name = $2, phone = NULL, company = NULL, origin_station_id = NULL,"
        " manage_token_hash = NULL,"
        " email = CASE WHEN r.status IN ('confirmed', 'waitlisted') AND EXISTS (SELECT FROM registrations o"
        "  WHERE lower(o.email) = lower($3) AND o.session_id = r.session_id"
        "  AND o.status IN ('confirmed', 'waitlisted'))"
        "  THEN $4 ELSE $3 END"
        " WHERE r.id = ANY($1::uuid[])",
        registration_ids,
        name,
        email,
        fallback_email,
    )


async def forget_answers(conn: asyncpg.Connection, registration_ids: list[uuid.UUID]) -> None:
    """Kept Idempotency-Key answers of these registrations (they hold a manage token)."""
    await conn.execute(
        "DELETE FROM idempotency_keys WHERE response->>'registration_id' = ANY($1::text[])",
        [str(r) for r in registration_ids],
    )


async def latest_for(conn: asyncpg.Connection, subject_hash: bytes) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT id FROM erasures WHERE subject_hash = $1 ORDER BY requested_at DESC LIMIT 1", subject_hash
    )
    return found


async def by_command(conn: asyncpg.Connection, command_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval("SELECT id FROM erasures WHERE command_id = $1", command_id)
    return found


async def record(
    conn: asyncpg.Connection,
    erasure_id: uuid.UUID,
    subject_hash: bytes,
    registration_ids: list[uuid.UUID],
    command_id: uuid.UUID | None,
) -> None:
    await conn.execute(
        "INSERT INTO erasures (id, subject_hash, registration_ids, command_id) VALUES ($1, $2, $3, $4)",
        erasure_id,
        subject_hash,
        registration_ids,
        command_id,
    )


async def confirm(conn: asyncpg.Connection, erasure_id: uuid.UUID, service: str) -> None:
    """A service's confirmation; one of an erasure this database does not know is ignored."""
    await conn.execute(
        "INSERT INTO erasure_confirmations (erasure_id, service)"
        " SELECT $1, $2 WHERE EXISTS (SELECT FROM erasures WHERE id = $1) ON CONFLICT DO NOTHING",
        erasure_id,
        service,
    )


async def erasure(conn: asyncpg.Connection | asyncpg.Pool, erasure_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT e.id, e.requested_at, cardinality(e.registration_ids) AS registrations,"
        " coalesce(jsonb_object_agg(c.service, c.confirmed_at) FILTER (WHERE c.service IS NOT NULL), '{}')"
        "  AS confirmations"
        " FROM erasures e LEFT JOIN erasure_confirmations c ON c.erasure_id = e.id"
        " WHERE e.id = $1 GROUP BY e.id",
        erasure_id,
    )
