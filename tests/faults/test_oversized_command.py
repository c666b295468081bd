"""A RegisterParticipant command far larger than any event Kafka accepts (it arrives compressed,
so the broker takes it): it is refused or its event quarantined, and the events behind it flow.

Registration runs on a database of its own here, so whatever this command leaves behind stays
out of the other fault tests.
"""

from __future__ import annotations

import asyncpg
from atelier_devkit import tally
from atelier_devkit.commands import HUGE_NAME, command, send_compressed
from atelier_devkit.databases import fresh_database
from atelier_devkit.kafka import headers_of, payload
from atelier_devkit.traffic import create_sessions, register_all, registrations_for
from atelier_devkit.waiting import eventually
from atelier_schemas import RegistrationRejected
from atelier_schemas.topics import REGISTRATION_EVENTS


async def test_an_oversized_command_is_refused_or_quarantined_and_the_events_behind_it_flow(faults):
    env = faults.env
    since = await tally.baseline(env)
    events_before = await tally.end_offsets(faults.bootstrap, [REGISTRATION_EVENTS])
    main = faults.services["registration"]
    await main.stop()  # one consumer of registration.commands at a time: this test's own
    async with fresh_database(env["REGISTRATION_DATABASE_URL"], "registration_oversized") as url:
        own = await faults.start_service("registration", REGISTRATION_DATABASE_URL=url)
        try:
            [session_id] = await create_sessions(own.url, env["REGISTRATION_ADMIN_TOKEN"], 1, capacity=10)
            oversized, ordinary = command(session_id, HUGE_NAME), command(session_id, "Lena Peeters")
            await send_compressed(faults.bootstrap, oversized, ordinary)
            [behind] = registrations_for([session_id], 1)
            await register_all(own.url, [behind])  # over HTTP, after the oversized one
            assert behind.status == 201

            conn = await asyncpg.connect(url)
            try:
                assert await eventually(
                    lambda: conn.fetchval("SELECT id FROM registrations WHERE command_id = $1", ordinary.command_id),
                    timeout=60,
                ), own.log_tail()
                ordinary_id = str(
                    await conn.fetchval("SELECT id FROM registrations WHERE command_id = $1", ordinary.command_id)
                )
            finally:
                await conn.close()
            flowing = {
                ordinary_id: tally.expected_for("confirmed", str(ordinary.participant.email), True),
                behind.registration_id: tally.expected_for("confirmed", behind.email, True),
            }

            async def take():
                outcome = await tally.count(
                    {**env, "REGISTRATION_DATABASE_URL": url},
                    own_database,
                    flowing,
                    ignore_dead_letter_keys=frozenset({oversized.key().encode()}),
                )
                return outcome

            own_database = tally.Baseline(since.dead_letters, {**since.outbox_positions, "REGISTRATION": 0})
            outcome, _ = await tally.settle(take, timeout=90)
            assert (outcome.vouchers, outcome.missing_emails, outcome.duplicated) == (2, 0, 0), own.log_tail()
            assert outcome.dead_letters == 0

            # Refused (a RegistrationRejected for its command, or the command dead-lettered), or
            # quarantined: its event set aside in the outbox, kept, never sent.
            dead = [r for r in await tally.dead_letters(env, since) if r.key == oversized.key().encode()]
            events = await tally.records_since(faults.bootstrap, events_before, [REGISTRATION_EVENTS])
            rejected = [
                r
                for r in events
                if headers_of(r)["ce_type"] == RegistrationRejected.TYPE
                and payload(r)["command_id"] == str(oversized.command_id)
            ]
            conn = await asyncpg.connect(url)
            try:
                held_back = await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE quarantined_at IS NOT NULL AND sent_at IS NULL"
                )
            finally:
                await conn.close()
            assert len(rejected) + len(dead) + held_back == 1
            assert all(len(r.value) < 1_000_000 for r in events)
            assert await own.health() == 200
        finally:
            await own.stop()
            faults.services["registration"] = await faults.start_service("registration", main.port, **main.settings)
