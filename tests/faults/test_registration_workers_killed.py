"""Every registration worker SIGKILLed in the middle of its batches while clients keep retrying
with the same Idempotency-Key; uvicorn's supervisor starts new workers."""

from __future__ import annotations

import asyncio
import collections

import asyncpg
from atelier_devkit import tally
from atelier_devkit.traffic import answered, create_sessions, register_all, registrations_for


async def test_killing_every_worker_mid_batch_gives_one_registration_per_key_and_an_intact_waiting_line(faults):
    env, registration = faults.env, faults.services["registration"]
    since = await tally.baseline(env)
    # 80 seats for 300 people at once: most of them join the waiting line while the workers die.
    sessions = await create_sessions(registration.url, env["REGISTRATION_ADMIN_TOKEN"], 2, capacity=40)
    registrations = registrations_for(sessions, 300)
    traffic = asyncio.create_task(register_all(registration.url, registrations, concurrency=100))
    await answered(registrations, 60)
    killed = registration.kill_workers()
    await traffic

    assert len(killed) == 2 and not set(killed) & set(registration.workers())
    assert [r for r in registrations if r.status != 201] == []
    assert any(not a.isdigit() for r in registrations for a in r.attempts)  # the kill really cut requests off

    conn = await asyncpg.connect(env["REGISTRATION_DATABASE_URL"])
    try:
        rows = await conn.fetch(
            "SELECT id::text, session_id::text, lower(email) AS email, status, waitlist_seq FROM registrations"
            " WHERE session_id = ANY($1::uuid[])",
            sessions,
        )
        counters = await conn.fetch("SELECT id::text, waiting FROM sessions WHERE id = ANY($1::uuid[])", sessions)
    finally:
        await conn.close()
    by_email = {row["email"]: row for row in rows}
    assert len(rows) == len(by_email) == 300  # one registration per key: no email twice
    assert all(by_email[r.email]["id"] == r.registration_id for r in registrations)  # the answer is the row

    for session_id in sessions:
        line = sorted(
            (row for row in rows if row["session_id"] == session_id and row["status"] == "waitlisted"),
            key=lambda row: row["waitlist_seq"],
        )
        answered_positions = {
            r.registration_id: r.body["waitlist_position"] for r in registrations if r.body["status"] == "waitlisted"
        }
        # First come, first served: the line is in the order of arrival, positions 1..n without a gap.
        assert [answered_positions[row["id"]] for row in line] == list(range(1, len(line) + 1))
        assert {c["id"]: c["waiting"] for c in counters}[session_id] == len(line) == 110
    assert collections.Counter(row["status"] for row in rows) == {"confirmed": 80, "waitlisted": 220}

    accepted = [r.registration_id for r in registrations]

    async def take():
        expected = await tally.expected_from_registrations(env, accepted)
        return await tally.count(env, since, expected, accepted=accepted, session_ids=sessions)

    outcome, _ = await tally.settle(take, timeout=120)
    assert (outcome.overbooked, outcome.seats_not_matching_rows) == (0, 0)
    assert (outcome.lost, outcome.duplicated, outcome.dead_letters) == (0, 0, 0), faults.log_tails()
    assert await faults.health() == dict.fromkeys(faults.services, 200), faults.log_tails()
