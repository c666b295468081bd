"""The day of each session, as catalog.events last said it: ticketing's only view of the programme."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from atelier_platform import locks


async def lock_sessions(conn: asyncpg.Connection, changing: set[uuid.UUID], issuing: set[uuid.UUID]) -> None:
    """Until the transaction ends, the days of the sessions `issuing` vouchers are not changed under
    them, and the sessions `changing` (their day, their vouchers) are this transaction's alone.

    Issuing only reads the session's day: shared, so that vouchers of one session are issued side by
    side, one batch per consumer (exclusive, every batch of a burst named the same sessions and the
    consumers took turns). In one statement and one order, so that no two callers wait in a circle;
    taken before any registration lock, everywhere, for the same reason. A batch takes them all at
    once, before its handlers (batches.around_batch).
    """
    await locks.lock_all(conn, locks.TICKETING_SESSION, [str(s) for s in changing], shared=[str(s) for s in issuing])


async def save(conn: asyncpg.Connection, session_id: uuid.UUID, starts_at: datetime, told_at: datetime) -> bool:
    """Keep the session's start unless a newer event said otherwise; False when this one is older."""
    return bool(
        await conn.fetchval(
            "INSERT INTO session_dates (session_id, starts_at, changed_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (session_id) DO UPDATE SET starts_at = excluded.starts_at, changed_at = excluded.changed_at"
            " WHERE session_dates.changed_at <= excluded.changed_at AND NOT session_dates.cancelled RETURNING true",
            session_id,
            starts_at,
            told_at,
        )
    )


async def cancel(conn: asyncpg.Connection, session_id: uuid.UUID, told_at: datetime) -> None:
    """A cancelled session stays cancelled, whatever arrives after."""
    await conn.execute(
        "INSERT INTO session_dates (session_id, changed_at, cancelled) VALUES ($1, $2, true)"
        " ON CONFLICT (session_id) DO UPDATE SET cancelled = true",
        session_id,
        told_at,
    )
