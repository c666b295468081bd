"""Sessions and registrations made directly through the registration service's use cases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from registration.domain import Refusal, Refused
from registration.service_layer import programme
from registration.service_layer.registrations import Application, NewRegistration, Registered, register_many

from .links import TEST_LINKS

WORKSHOP = programme.Workshop(
    topic="seo",
    title_fr="Référencement",
    title_nl="Zoekmachines",
    title_en="SEO",
    description_fr="...",
    description_nl="...",
    description_en="...",
    duration_minutes=120,
)


async def new_session(pool, *, capacity: int = 5, starts: datetime | None = None, hours: float = 2):
    starts = starts or datetime.now(UTC) + timedelta(days=10, minutes=uuid.uuid4().int % 100_000)
    async with pool.acquire() as conn, conn.transaction():
        workshop = await programme.create_workshop(conn, WORKSHOP)
        return await programme.schedule_session(
            conn,
            workshop["id"],
            programme.SessionPlan(
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                room="Room 1",
                language="nl",
                capacity=capacity,
            ),
        )


def person(n: int | str = "") -> dict:
    return {"name": f"Person {n}", "email": f"p{n}-{uuid.uuid4().hex[:10]}@example.be", "language": "fr"}


async def register_one(conn, session_id: uuid.UUID, who: NewRegistration) -> Registered:
    """A seat or a place in the waiting line, decided alone (a batch of one); raises Refused."""
    [outcome] = await register_many(conn, [Application(session_id, who)], links=TEST_LINKS)
    if isinstance(outcome, Refusal):
        raise Refused(outcome)
    return outcome
