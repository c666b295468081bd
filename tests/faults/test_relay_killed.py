"""The registration process (two workers, so two relays) SIGKILLed twice during a burst of
registrations and cancellations: a relay that published a batch but had not yet marked it sent
publishes it again after the restart. Consumers must apply each event once, in the order of its key.

A SIGKILL lands in that window only by chance, so the test then makes the window's outcome exact:
with registration killed, the rows of 60 registrations already on Kafka are marked unsent again —
what a relay killed after Kafka's ack and before its UPDATE leaves behind — and the next process
publishes them a second time."""

from __future__ import annotations

import asyncio
import collections

import asyncpg
from atelier_devkit import tally
from atelier_devkit.kafka import headers_of
from atelier_devkit.traffic import answered, create_sessions, register_all, registrations_for
from atelier_devkit.waiting import eventually
from atelier_schemas import RegistrationCancelled, RegistrationConfirmed
from atelier_schemas.topics import REGISTRATION_EVENTS


async def no_unsent_outbox(env, since) -> bool:
    unsent, _ = await tally.unsent_outbox(env, since)
    return unsent == 0


async def test_a_relay_killed_between_publishing_and_marking_sent_changes_no_effect_and_no_order(faults):
    env, registration = faults.env, faults.services["registration"]
    since = await tally.baseline(env)
    events_before = await tally.end_offsets(faults.bootstrap, [REGISTRATION_EVENTS])
    sessions = await create_sessions(registration.url, env["REGISTRATION_ADMIN_TOKEN"], 3, capacity=150)
    registrations = registrations_for(sessions, 300)
    # Every third participant cancels straight after: two events on one key, whose order matters.
    traffic = asyncio.create_task(register_all(registration.url, registrations, per_second=50, cancel_every=3))
    for share in (90, 200):
        await answered(registrations, share)
        await faults.restart_service("registration")
    await traffic
    await eventually(lambda: no_unsent_outbox(env, since), timeout=60)
    await faults.services["registration"].kill()
    cancelled_first = [r.registration_id for r in registrations if r.cancelled][:30]
    confirmed_only = [r.registration_id for r in registrations if not r.cancelled][:30]
    conn = await asyncpg.connect(env["REGISTRATION_DATABASE_URL"])
    try:
        published_but_unmarked = await conn.execute(
            "UPDATE outbox SET sent_at = NULL WHERE key = ANY($1::text[]) AND sent_at IS NOT NULL",
            cancelled_first + confirmed_only,
        )
    finally:
        await conn.close()
    assert int(published_but_unmarked.split()[1]) >= 90  # 30 registrations with two events, 30 with one
    await faults.restart_service("registration")

    assert [r for r in registrations if r.status != 201] == []
    cancelled = {r.registration_id for r in registrations if r.cancelled}
    assert len(cancelled) == 100
    accepted = [r.registration_id for r in registrations]

    async def take():
        expected = await tally.expected_from_registrations(env, accepted)
        return await tally.count(env, since, expected, accepted=accepted, session_ids=sessions)

    outcome, _ = await tally.settle(take, timeout=180)
    assert (outcome.rows, outcome.confirmed, outcome.cancelled) == (300, 200, 100)
    assert (outcome.lost, outcome.duplicated, outcome.dead_letters) == (0, 0, 0), faults.log_tails()
    assert outcome.emails == outcome.distinct_message_ids  # notifications kept running: nothing resent
    assert outcome.emails_by_kind["registration_confirmed"] == 300
    assert outcome.emails_by_kind["registration_cancelled"] == 100

    # Per key, the first copy of each event keeps the order the registration service wrote them in.
    ours = set(accepted)
    first_copies: dict[str, list[str]] = collections.defaultdict(list)
    every_copy: dict[str, list[str]] = collections.defaultdict(list)
    seen, copies = set(), collections.Counter()
    for record in await tally.records_since(faults.bootstrap, events_before, [REGISTRATION_EVENTS]):
        key, headers = record.key.decode(), headers_of(record)
        if key in ours:
            copies[headers["ce_id"]] += 1
            every_copy[key].append(headers["ce_type"])
            if headers["ce_id"] not in seen:
                seen.add(headers["ce_id"])
                first_copies[key].append(headers["ce_type"])
    assert {key: types for key, types in first_copies.items() if key in cancelled} == dict.fromkeys(
        cancelled, [RegistrationConfirmed.TYPE, RegistrationCancelled.TYPE]
    )
    assert all(types == [RegistrationConfirmed.TYPE] for key, types in first_copies.items() if key not in cancelled)
    assert sum(1 for n in copies.values() if n > 1) >= 90  # the unmarked rows went out again
    # The second copies keep their key's order too: the last copy of a cancelled key is its cancellation.
    for key in cancelled_first:
        types = every_copy[key]
        assert types.count(RegistrationCancelled.TYPE) >= 2 and types[-1] == RegistrationCancelled.TYPE, types
    print(f"events published more than once: {sum(1 for n in copies.values() if n > 1)}")
    assert await faults.health() == dict.fromkeys(faults.services, 200), faults.log_tails()
