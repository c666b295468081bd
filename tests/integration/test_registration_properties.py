"""Property: any sequence of registrations and cancellations on one session keeps the rules.

Confirmed never exceeds capacity; the waiting line is first-in first-out; cancelling a held
seat while people wait promotes exactly one of them. Checked against a simple model after
every step, on real Postgres.
"""

from __future__ import annotations

import asyncio

from atelier_platform.db import create_pool
from hypothesis import given, settings
from hypothesis import strategies as st
from registration.service_layer import registrations
from registration.service_layer.registrations import NewRegistration
from support.programme import new_session, person, register_one

REGISTER = ("register", 0)
plans = st.lists(st.one_of(st.just(REGISTER), st.tuples(st.just("cancel"), st.integers(0, 50))), max_size=25)


async def promotions(conn, session_id) -> int:
    return await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE headers->>'ce_type' = 'be.atelier.registration.promoted.v1'"
        " AND convert_from(value, 'UTF8')::jsonb->'session'->>'session_id' = $1",
        str(session_id),
    )


async def play(database_url: str, capacity: int, plan: list[tuple[str, int]]) -> None:
    pool = await create_pool(database_url, max_size=2)
    try:
        session = await new_session(pool, capacity=capacity)
        confirmed: list = []  # the model: who holds a seat, who waits in which order
        waiting: list = []
        for action, pick in plan:
            async with pool.acquire() as conn, conn.transaction():
                if action == "register":
                    done = await register_one(conn, session["id"], NewRegistration(**person()))
                    (confirmed if len(confirmed) < capacity else waiting).append(done.registration_id)
                elif confirmed or waiting:
                    victim = (confirmed + waiting)[pick % (len(confirmed) + len(waiting))]
                    before = await promotions(conn, session["id"])
                    await registrations.cancel(conn, victim, by="participant")
                    should_promote = victim in confirmed and bool(waiting)
                    assert await promotions(conn, session["id"]) - before == int(should_promote)
                    if victim in confirmed:
                        confirmed.remove(victim)
                        if waiting:
                            confirmed.append(waiting.pop(0))
                    else:
                        waiting.remove(victim)
            rows = await pool.fetch(
                "SELECT id, status FROM registrations WHERE session_id = $1 AND status <> 'cancelled'"
                " ORDER BY waitlist_seq",
                session["id"],
            )
            assert {r["id"] for r in rows if r["status"] == "confirmed"} == set(confirmed)
            assert [r["id"] for r in rows if r["status"] == "waitlisted"] == waiting
            seats = await pool.fetchrow(
                "SELECT seats_taken, waiting, capacity FROM sessions WHERE id = $1", session["id"]
            )
            assert seats["seats_taken"] == len(confirmed) <= seats["capacity"]
            assert seats["waiting"] == len(waiting)
    finally:
        await pool.close()


def test_any_sequence_of_registrations_and_cancellations_keeps_seats_fifo_and_promotions(infra):
    # Hypothesis drives a synchronous test; each example runs on its own event loop and pool.
    @settings(max_examples=40, deadline=None)
    @given(capacity=st.integers(1, 4), plan=plans)
    def check(capacity, plan):
        asyncio.run(play(infra["REGISTRATION_DATABASE_URL"], capacity, plan))

    check()
