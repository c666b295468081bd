"""Registration requests answered together: one transaction, one `register_many`, each answer as if decided alone."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from ..domain import Refusal
from .answers import Answer, RegisteredOut, refused
from .manage_links import ManageLinks
from .registrations import Application, Registered, register_many
from .unit_of_work import Keyed, UnitOfWork


async def answer_registrations(
    uow: UnitOfWork, requests: Sequence[tuple[Application, Keyed]], *, links: ManageLinks
) -> list[Answer]:
    async def decide(conn: asyncpg.Connection, indices: list[int]) -> list[Answer]:
        applications = [requests[i][0] for i in indices]
        outcomes = await register_many(conn, applications, links=links)
        return [_answer(a, o) for a, o in zip(applications, outcomes, strict=True)]

    return await uow.answer([keyed for _, keyed in requests], decide)


def _answer(application: Application, outcome: Registered | Refusal) -> Answer:
    if isinstance(outcome, Refusal):
        return refused(outcome)
    body = RegisteredOut(
        registration_id=outcome.registration_id,
        code=outcome.code,
        session_id=application.session_id,
        status=outcome.status,
        waitlist_position=outcome.waitlist_position,
        manage_token=outcome.manage_token,
    )
    return Answer(201, body.model_dump(mode="json"))
