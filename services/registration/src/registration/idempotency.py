"""Idempotency-Key: the same key and request get the first response again; a different request is refused.

A key is claimed in the use case's own transaction, so a crash never leaves a key without its
effect. Refusals are stored too. Keys are kept for a day (responses hold manage tokens).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

Action = Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]]
RETENTION = "24 hours"


async def request_hash(request: Request) -> bytes:
    return hashlib.sha256(request.method.encode() + request.url.path.encode() + await request.body()).digest()


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 200:
        raise HTTPException(400, "Idempotency-Key must be 1 to 200 characters")


async def respond(pool: asyncpg.Pool, request: Request, key: str | None, action: Action) -> JSONResponse:
    """Run `action` in a transaction, at most once per Idempotency-Key."""
    if key is None:
        async with pool.acquire() as conn, conn.transaction():
            status, body = await action(conn)
        return JSONResponse(jsonable_encoder(body), status)
    check_key(key)
    digest = await request_hash(request)
    async with pool.acquire() as conn:
        try:
            async with conn.transaction():
                if await claim(conn, [(key, digest)]):
                    status, body = await action(conn)
                    body = jsonable_encoder(body)
                    await store(conn, [(key, status, body)])
                    return JSONResponse(body, status)
        except HTTPException as refusal:  # the action's transaction is gone: keep the refusal in one of its own
            async with conn.transaction():
                if await claim(conn, [(key, digest)]):
                    await store(conn, [(key, refusal.status_code, {"detail": refusal.detail})])
            raise
        return await replay(conn, key, digest)


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


async def store(conn: asyncpg.Connection, responses: list[tuple[str, int, Any]]) -> None:
    """Keep the responses (key, status, JSON-ready body) of claimed keys, in the claiming transaction."""
    await conn.executemany(
        "UPDATE idempotency_keys SET status_code = $2, response = $3 WHERE key = $1",
        [(key, status, json.dumps(body)) for key, status, body in responses],
    )


async def replay(conn: asyncpg.Connection | asyncpg.Pool, key: str, digest: bytes) -> JSONResponse:
    """The first response to `key`, or 422 when the key came with a different request."""
    stored = await conn.fetchrow("SELECT * FROM idempotency_keys WHERE key = $1", key)
    if stored["request_hash"] != digest:
        raise HTTPException(422, "this Idempotency-Key was already used with a different request")
    return JSONResponse(json.loads(stored["response"]), stored["status_code"], headers={"Idempotent-Replayed": "true"})


async def purge_expired(pool: asyncpg.Pool, every_seconds: float = 3600) -> None:
    while True:
        await pool.execute(f"DELETE FROM idempotency_keys WHERE created_at < now() - interval '{RETENTION}'")
        await asyncio.sleep(every_seconds)
