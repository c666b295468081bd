"""Seats, the waiting line and promotions on real Postgres, under real concurrency."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from registration.domain import Refusal, Refused
from registration.service_layer import programme, registrations
from registration.service_layer.registrations import NewRegistration
from support.programme import new_session, person, register_one


async def register(pool, session_id, who: dict):
    async with pool.acquire() as conn, conn.transaction():
        return await register_one(conn, session_id, NewRegistration(**who))


async def cancel(pool, registration_id, by="participant", reason=None):
    async with pool.acquire() as conn, conn.transaction():
        return await registrations.cancel(conn, registration_id, by=by, reason=reason)


async def statuses(pool, session_id) -> dict:
    rows = await pool.fetch("SELECT id, status FROM registrations WHERE session_id = $1", session_id)
    return {r["id"]: r["status"] for r in rows}


async def events_for(pool, event_type: str, keys) -> list[dict]:
    rows = await pool.fetch(
        "SELECT key, value FROM outbox WHERE headers->>'ce_type' = $1 AND key = ANY($2::text[]) ORDER BY position",
        event_type,
        [str(k) for k in keys],
    )
    return [json.loads(r["value"]) for r in rows]


async def test_200_concurrent_registrations_for_25_seats_then_10_cancellations_promote_10_in_order(
    registration_pool,
):
    session = await new_session(registration_pool, capacity=25)
    results = await asyncio.gather(*(register(registration_pool, session["id"], person(n)) for n in range(200)))

    confirmed = [r for r in results if r.status == "confirmed"]
    waitlisted = sorted((r for r in results if r.status == "waitlisted"), key=lambda r: r.waitlist_position)
    assert len(confirmed) == 25 and len(waitlisted) == 175
    assert [r.waitlist_position for r in waitlisted] == list(range(1, 176))
    seats = await registration_pool.fetchrow("SELECT seats_taken, waiting FROM sessions WHERE id = $1", session["id"])
    assert (seats["seats_taken"], seats["waiting"]) == (25, 175)

    await asyncio.gather(*(cancel(registration_pool, r.registration_id) for r in confirmed[:10]))

    now = await statuses(registration_pool, session["id"])
    assert [now[r.registration_id] for r in waitlisted[:10]] == ["confirmed"] * 10
    assert {now[r.registration_id] for r in waitlisted[10:]} == {"waitlisted"}
    assert sum(1 for s in now.values() if s == "confirmed") == 25
    promoted = await events_for(
        registration_pool, "be.atelier.registration.promoted.v1", [r.registration_id for r in waitlisted]
    )
    assert sorted(p["registration_id"] for p in promoted) == sorted(str(r.registration_id) for r in waitlisted[:10])
    async with registration_pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", waitlisted[10].registration_id)
        assert await registrations.waitlist_position(conn, row) == 1


async def test_the_same_person_cannot_hold_two_overlapping_sessions(registration_pool):
    first = await new_session(registration_pool)
    overlapping = await new_session(registration_pool, starts=first["starts_at"] + timedelta(hours=1))
    later = await new_session(registration_pool, starts=first["ends_at"])
    who = person("overlap")
    await register(registration_pool, first["id"], who)

    with pytest.raises(Refused) as refused:
        await register(registration_pool, overlapping["id"], {**who, "email": who["email"].upper()})
    assert refused.value.reason is Refusal.ALREADY_REGISTERED
    assert (await register(registration_pool, later["id"], who)).status == "confirmed"


async def test_concurrent_registrations_of_one_person_to_overlapping_sessions_let_only_one_through(
    registration_pool,
):
    sessions = [await new_session(registration_pool) for _ in range(1)]
    sessions.append(await new_session(registration_pool, starts=sessions[0]["starts_at"] + timedelta(minutes=30)))
    who = person("race")
    outcomes = await asyncio.gather(
        *(register(registration_pool, s["id"], who) for s in sessions * 3), return_exceptions=True
    )
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1
    assert all(o.reason is Refusal.ALREADY_REGISTERED for o in outcomes if isinstance(o, Refused))


async def test_no_registration_once_the_session_has_started_or_was_cancelled(registration_pool):
    started = await new_session(registration_pool, starts=datetime.now(UTC) - timedelta(minutes=5))
    with pytest.raises(Refused) as refused:
        await register(registration_pool, started["id"], person())
    assert refused.value.reason is Refusal.SESSION_STARTED

    session = await new_session(registration_pool)
    async with registration_pool.acquire() as conn, conn.transaction():
        await programme.cancel_session(conn, session["id"], "Trainer ill")
    with pytest.raises(Refused) as refused:
        await register(registration_pool, session["id"], person())
    assert refused.value.reason is Refusal.SESSION_CANCELLED


async def test_cancelling_a_session_cancels_every_registration_each_with_its_event_and_reason(registration_pool):
    session = await new_session(registration_pool, capacity=2)
    people = [await register(registration_pool, session["id"], person(n)) for n in range(3)]
    async with registration_pool.acquire() as conn, conn.transaction():
        assert await programme.cancel_session(conn, session["id"], "Trainer ill") == 3

    assert set((await statuses(registration_pool, session["id"])).values()) == {"cancelled"}
    cancelled = await events_for(
        registration_pool, "be.atelier.registration.cancelled.v1", [p.registration_id for p in people]
    )
    assert len(cancelled) == 3
    assert {(c["cancelled_by"], c["reason"]) for c in cancelled} == {("organiser", "Trainer ill")}
    assert sorted(c["previous_status"] for c in cancelled) == ["confirmed", "confirmed", "waitlisted"]
    no_promotion = await events_for(
        registration_pool, "be.atelier.registration.promoted.v1", [p.registration_id for p in people]
    )
    assert no_promotion == []


async def test_cancelling_a_waitlisted_registration_moves_the_others_up(registration_pool):
    session = await new_session(registration_pool, capacity=1)
    _, second, third = [await register(registration_pool, session["id"], person(n)) for n in range(3)]
    assert (second.waitlist_position, third.waitlist_position) == (1, 2)
    assert await cancel(registration_pool, second.registration_id) is True
    assert await cancel(registration_pool, second.registration_id) is False  # already cancelled
    async with registration_pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", third.registration_id)
        assert await registrations.waitlist_position(conn, row) == 1


async def test_more_seats_go_to_the_waiting_line_at_once(registration_pool):
    session = await new_session(registration_pool, capacity=1)
    people = [await register(registration_pool, session["id"], person(n)) for n in range(4)]
    async with registration_pool.acquire() as conn, conn.transaction():
        await programme.change_session(conn, session["id"], {"capacity": 3})
        with pytest.raises(programme.ProgrammeConflict):
            await programme.change_session(conn, session["id"], {"capacity": 2})
    now = await statuses(registration_pool, session["id"])
    assert [now[p.registration_id] for p in people] == ["confirmed", "confirmed", "confirmed", "waitlisted"]


async def test_attendance_is_recorded_once_and_only_for_confirmed_people(registration_pool):
    session = await new_session(registration_pool, capacity=1)
    seated = await register(registration_pool, session["id"], person())
    waiting = await register(registration_pool, session["id"], person())
    async with registration_pool.acquire() as conn, conn.transaction():
        _, first = await registrations.check_in(conn, seated.code)
        _, second = await registrations.check_in(conn, seated.code.lower())
        with pytest.raises(registrations.NotConfirmed):
            await registrations.check_in(conn, waiting.code)
    assert (first, second) == (True, False)
    recorded = await events_for(
        registration_pool, "be.atelier.registration.attendance_recorded.v1", [seated.registration_id]
    )
    assert len(recorded) == 1


async def test_withdrawing_a_workshop_cancels_its_sessions_still_to_come(registration_pool):
    first = await new_session(registration_pool)
    async with registration_pool.acquire() as conn, conn.transaction():
        second = await programme.schedule_session(
            conn,
            first["workshop_id"],
            programme.SessionPlan(
                starts_at=first["ends_at"],
                ends_at=first["ends_at"] + timedelta(hours=1),
                room="Room 3",
                language="en",
                capacity=3,
            ),
        )
    seated = await register(registration_pool, second["id"], person())
    async with registration_pool.acquire() as conn, conn.transaction():
        assert await programme.cancel_workshop(conn, first["workshop_id"], "Topic withdrawn") == 2
    rows = await registration_pool.fetch("SELECT status FROM sessions WHERE workshop_id = $1", first["workshop_id"])
    assert {r["status"] for r in rows} == {"cancelled"}
    assert (await statuses(registration_pool, second["id"]))[seated.registration_id] == "cancelled"
