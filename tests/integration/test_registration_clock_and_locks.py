"""One clock and one lock order: time rules read the database's clock; sessions are locked by id everywhere."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from registration.service_layer import programme, registrations
from registration.service_layer.registrations import NewRegistration
from support.programme import new_session, person, register_one


async def register(pool, session_id):
    async with pool.acquire() as conn, conn.transaction():
        return await register_one(conn, session_id, NewRegistration(**person()))


async def test_cancelling_and_promoting_follow_the_databases_clock_not_the_applications(registration_pool):
    """In a transaction begun before the start, the session has not started — though the process's clock says so."""
    starts = await registration_pool.fetchval("SELECT now()") + timedelta(seconds=1.5)
    session = await new_session(registration_pool, capacity=1, starts=starts)
    seated, waiting = [await register(registration_pool, session["id"]) for _ in range(2)]

    async with registration_pool.acquire() as conn, conn.transaction():
        assert await conn.fetchval("SELECT now()") < starts
        await asyncio.sleep((starts - datetime.now(UTC)).total_seconds() + 0.2)
        assert await registrations.cancel(conn, seated.registration_id, by="participant") is True

    status = await registration_pool.fetchval("SELECT status FROM registrations WHERE id = $1", waiting.registration_id)
    assert status == "confirmed"


async def test_cancelling_a_workshop_locks_its_sessions_in_id_order_as_registration_batches_do(registration_pool):
    first = await new_session(registration_pool)
    async with registration_pool.acquire() as conn, conn.transaction():
        plan = programme.SessionPlan(first["starts_at"], first["ends_at"], "Room 2", "fr", 5)
        others = [await programme.schedule_session(conn, first["workshop_id"], plan) for _ in range(2)]
        ids = sorted([first["id"]] + [s["id"] for s in others], key=lambda i: i.bytes)
        # The session first in id order starts last: an order by start time would lock the others first.
        for days, session_id in enumerate(reversed(ids)):
            start = first["starts_at"] + timedelta(days=days)
            await programme.change_session(
                conn, session_id, {"starts_at": start, "ends_at": start + timedelta(hours=2)}
            )

    async with registration_pool.acquire() as holder, registration_pool.acquire() as canceller:
        async with holder.transaction():
            await holder.execute("SELECT FROM sessions WHERE id = $1 FOR UPDATE", ids[0])
            pid = await canceller.fetchval("SELECT pg_backend_pid()")
            cancelling = asyncio.create_task(cancel_workshop(canceller, first["workshop_id"]))
            while await registration_pool.fetchval(
                "SELECT wait_event_type IS DISTINCT FROM 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            ):
                await asyncio.sleep(0.02)
            # Waiting for the first session in id order, it holds none of the others.
            async with registration_pool.acquire() as probe, probe.transaction():
                free = await probe.fetch(
                    "SELECT id FROM sessions WHERE id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED", ids[1:]
                )
        assert await cancelling == 3
    assert sorted(r["id"] for r in free) == sorted(ids[1:])


async def cancel_workshop(conn, workshop_id) -> int:
    async with conn.transaction():
        return await programme.cancel_workshop(conn, workshop_id, "Topic withdrawn")
