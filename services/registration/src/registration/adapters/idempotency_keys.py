"""Idempotency-Keys in Postgres: claimed and answered in the transaction of the use case they guard.

Keys are kept for a day (answers hold manage tokens).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg

RETENTION = "24 hours"


async def claim(conn: asyncpg.Connection, keys: list[tuple[str, bytes]]) -> set[str]:
    """Claim (key, request hash) pairs in the caller's transaction; returns the keys that were free.

    Waits while another transaction holding one of these keys is in flight. Keys are claimed in
    sorted order so that two batches sharing keys queue instead of deadlocking.
    """
    claimed = await conn.fetch(
        "INSERT INTO idempotency_keys (key, request_hash)"
        " SELECT * FROM unnest($1::text[], $2::bytea[]) AS k (key, request_hash) ORDER BY key"
        " ON CONFLICT DO NOTHING RETURNING key",
        [key for key, _ in keys],
        [digest for _, digest in keys],
    )
    return {row["key"] for row in claimed}


async def store(conn: asyncpg.Connection, answers: list[tuple[str, int, Any]]) -> None:
    """Keep the answers (key, status, JSON-ready body) of claimed keys, in the claiming transaction."""
    await conn.executemany(
        "UPDATE idempotency_keys SET status_code = $2, response = $3 WHERE key = $1",
        [(key, status, json.dumps(body)) for key, status, body in answers],
    )


async def stored(conn: asyncpg.Connection, key: str) -> tuple[bytes, int, Any]:
    """The request hash, status and body kept under a used key."""
    row = await conn.fetchrow("SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1", key)
    return row["request_hash"], row["status_code"], json.loads(row["response"])


async def purge_expired(pool: asyncpg.Pool, every_seconds: float = 3600) -> None:
    """Runs as supervised housekeeping: a failure restarts it."""
    while True:
        await pool.execute(f"DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION}'")
        await asyncio.sleep(every_seconds)
