"""Registrations over HTTP, decided in batches.

Everyone who arrives while a batch is being written joins the next one, so under load many people
share one transaction and a handful of round trips to Postgres; under light load a batch is one
person. Each answer is the same as if the request had been decided alone: a refusal refuses only its
own request, and an Idempotency-Key is claimed in the transaction that decides its request.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from atelier_platform.metrics import INTAKE_QUEUE
from fastapi import HTTPException
from fastapi.responses import JSONResponse

from . import idempotency, registrations
from .domain import REFUSAL_TEXT, Refusal
from .http import STATUS_OF_REFUSAL

log = structlog.get_logger(__name__)


@dataclass(eq=False)  # compared and hashed by identity
class _Pending:
    application: registrations.Application
    key: str | None
    digest: bytes | None
    answer: asyncio.Future[JSONResponse] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Intake:
    def __init__(
        self, pool: asyncpg.Pool, *, public_url: str, after_commit: Callable[[], None], max_batch: int = 100
    ) -> None:
        self._pool = pool
        self._public_url = public_url
        self._after_commit = after_commit
        self._max_batch = max_batch
        self._queue: collections.deque[_Pending] = collections.deque()
        self._arrived = asyncio.Event()

    async def register(
        self, application: registrations.Application, key: str | None = None, digest: bytes | None = None
    ) -> JSONResponse:
        """The answer to one registration request; `digest` identifies the request behind `key`."""
        pending = _Pending(application, key, digest)
        self._queue.append(pending)
        INTAKE_QUEUE.inc()
        self._arrived.set()
        return await pending.answer

    async def run(self) -> None:
        """Decide batches until cancelled. Run two: one builds answers while the other waits on Postgres."""
        while True:
            await self._arrived.wait()
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
            INTAKE_QUEUE.dec(len(batch))
            if not self._queue:
                self._arrived.clear()
            if batch:
                await self._decide(batch)

    async def _decide(self, batch: list[_Pending]) -> None:
        try:
            answers = await self._in_one_transaction(batch)
        except Exception as exc:  # handed to the requests; the loop must survive it
            if len(batch) == 1:
                _settle(batch[0], exc)
                return
            log.warning("registration batch failed, deciding one by one", size=len(batch), error=repr(exc))
            for pending in batch:
                await self._decide([pending])
            return
        self._after_commit()
        for pending, answer in zip(batch, answers, strict=True):
            if answer is None:  # the key was used before: its first response
                try:
                    answer = await idempotency.replay(self._pool, pending.key, pending.digest)
                except HTTPException as exc:
                    answer = exc
            _settle(pending, answer)

    async def _in_one_transaction(self, batch: list[_Pending]) -> list[JSONResponse | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            keyed = [(p.key, p.digest) for p in batch if p.key is not None]
            free = await idempotency.claim(conn, keyed) if keyed else set()
            deciding = []  # requests without a key, and the first request with each newly claimed key
            for pending in batch:
                if pending.key is None or pending.key in free:
                    deciding.append(pending)
                    free.discard(pending.key)
            outcomes = await registrations.register_many(
                conn, [p.application for p in deciding], public_url=self._public_url
            )
            answers = {p: _answer(p.application, outcome) for p, outcome in zip(deciding, outcomes, strict=True)}
            stored = [(p.key, *answers[p]) for p in deciding if p.key is not None]
            if stored:
                await idempotency.store(conn, stored)
        return [JSONResponse(answers[p][1], answers[p][0]) if p in answers else None for p in batch]


def _answer(application: registrations.Application, outcome: registrations.Registered | Refusal) -> tuple[int, Any]:
    if isinstance(outcome, Refusal):
        return STATUS_OF_REFUSAL[outcome], {"detail": REFUSAL_TEXT[outcome]}
    return 201, {
        "registration_id": str(outcome.registration_id),
        "code": outcome.code,
        "session_id": str(application.session_id),
        "status": outcome.status,
        "waitlist_position": outcome.waitlist_position,
        "manage_token": outcome.manage_token,
    }


def _settle(pending: _Pending, answer: JSONResponse | Exception) -> None:
    if pending.answer.done():  # the client went away
        return
    if isinstance(answer, Exception):
        pending.answer.set_exception(answer)
    else:
        pending.answer.set_result(answer)
