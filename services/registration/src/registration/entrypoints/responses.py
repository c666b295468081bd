"""Answers as HTTP responses, and the Idempotency-Key header of any POST."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import asyncpg
from fastapi import Header, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from ..service_layer.answers import Answer, Refusing
from ..service_layer.unit_of_work import Keyed, UnitOfWork

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retry safely: the same key replays the first response",
    ),
]
Action = Callable[[asyncpg.Connection], Awaitable[tuple[int, Any]]]


async def keyed(request: Request, key: str | None) -> Keyed:
    """The key (its bounds checked by `IdempotencyKey`) and the hash of the request it came with."""
    if key is None:
        return Keyed()
    digest = hashlib.sha256(request.method.encode() + request.url.path.encode() + await request.body()).digest()
    return Keyed(key, digest)


def render(answer: Answer) -> JSONResponse:
    headers = {**answer.headers, **({"Idempotent-Replayed": "true"} if answer.replayed else {})}
    return JSONResponse(answer.body, answer.status, headers=headers)


async def respond(uow: UnitOfWork, request: Request, key: str | None, action: Action) -> JSONResponse:
    """Run `action` in a unit of work, at most once per Idempotency-Key; an HTTPException it raises is its answer."""

    async def decide(conn: asyncpg.Connection, indices: list[int]) -> list[Answer]:
        try:
            status, body = await action(conn)
        except HTTPException as refusal:
            raise Refusing(Answer(refusal.status_code, {"detail": refusal.detail})) from None
        return [Answer(status, jsonable_encoder(body))]

    [answer] = await uow.answer([await keyed(request, key)], decide)
    return render(answer)
