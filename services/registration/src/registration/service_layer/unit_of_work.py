"""One transaction per decision: the use case's changes, the outbox rows of its events, and the
Idempotency-Keys it answers — claimed before, answered after, committed together.

Single requests and batches take the same path: a request without a key is decided; the first
request with a newly claimed key is decided and its answer kept; any other request with a used key
gets the kept answer again (or 422 when the key came with a different request).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from ..adapters import idempotency_keys as keys
from .answers import Answer, Refusing

# Decides the requests at these indices in the given transaction; one answer per index, in order.
Decide = Callable[[asyncpg.Connection, list[int]], Awaitable[list[Answer]]]


@dataclass(frozen=True)
class Keyed:
    """A request's Idempotency-Key and the hash of the request that came with it (both None without a key)."""

    key: str | None = None
    digest: bytes | None = None


class UnitOfWork:
    def __init__(self, pool: asyncpg.Pool, *, after_commit: Callable[[], None] = lambda: None) -> None:
        self.pool = pool
        self._after_commit = after_commit  # wakes the outbox relay

    async def answer(self, requests: Sequence[Keyed], decide: Decide) -> list[Answer]:
        """The answers to `requests`, each Idempotency-Key decided at most once."""
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction():
                    deciding = await _claim(conn, requests)
                    answers = dict(zip(deciding, await decide(conn, deciding) if deciding else [], strict=True))
                    await _keep(conn, requests, answers)
            except Refusing as refusal:  # its changes are gone; the refusal is kept in a transaction of its own
                async with conn.transaction():
                    deciding = await _claim(conn, requests)
                    answers = dict.fromkeys(deciding, refusal.answer)
                    await _keep(conn, requests, answers)
            self._after_commit()
            return [answers[i] if i in answers else await _replay(conn, r) for i, r in enumerate(requests)]


async def _claim(conn: asyncpg.Connection, requests: Sequence[Keyed]) -> list[int]:
    """Indices of the requests to decide: those without a key, and the first with each newly claimed key."""
    keyed = [(r.key, r.digest) for r in requests if r.key is not None and r.digest is not None]
    free = await keys.claim(conn, keyed) if keyed else set()
    deciding = []
    for i, r in enumerate(requests):
        if r.key is None:
            deciding.append(i)
        elif r.key in free:
            deciding.append(i)
            free.discard(r.key)
    return deciding


async def _keep(conn: asyncpg.Connection, requests: Sequence[Keyed], answers: dict[int, Answer]) -> None:
    kept = [(key, a.status, a.body) for i, a in answers.items() if (key := requests[i].key) is not None]
    if kept:
        await keys.store(conn, kept)


async def _replay(conn: asyncpg.Connection, request: Keyed) -> Answer:
    assert request.key is not None  # only a keyed request is ever left undecided
    digest, status, body = await keys.stored(conn, request.key)
    if digest != request.digest:
        # The shape of every other 422, so clients (and the OpenAPI document) know one kind.
        reused = {
            "type": "idempotency_key_reused",
            "loc": ["header", "Idempotency-Key"],
            "msg": "this Idempotency-Key was already used with a different request",
        }
        return Answer(422, {"detail": [reused]})
    return Answer(status, body, replayed=True)
