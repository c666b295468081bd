"""Kafka SIGKILLed during a burst of registrations, down longer than the producer's request
timeout, then started again: everything accepted meanwhile still ends with its voucher and emails."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from atelier_devkit import tally
from atelier_devkit.kafka import headers_of
from atelier_devkit.traffic import answered, create_sessions, register_all, registrations_for
from atelier_devkit.waiting import eventually
from atelier_schemas.topics import REGISTRATION_EVENTS

# Longer than aiokafka's default request timeout (40 s): an outage the relay cannot simply wait out.
OUTAGE_SECONDS = 45


async def poison_sent_during_outage(producer: AIOKafkaProducer, key: bytes) -> None:
    """Sent while the broker is down: the producer holds it, and is asked again if it gives up before the
    broker is back (it can: a retriable error such as NodeNotReadyError ends the send)."""
    while True:
        try:
            await producer.send_and_wait(REGISTRATION_EVENTS, b"{not json", key=key)
            return
        except KafkaError as error:
            if not error.retriable:
                raise
            await asyncio.sleep(0.5)


async def test_a_broker_killed_mid_burst_loses_and_doubles_nothing_and_dead_letters_poison_after(faults):
    env, registration = faults.env, faults.services["registration"]
    since = await tally.baseline(env)
    sessions = await create_sessions(registration.url, env["REGISTRATION_ADMIN_TOKEN"], 3, capacity=100)
    registrations = registrations_for(sessions, 300)
    producer = AIOKafkaProducer(bootstrap_servers=faults.bootstrap, request_timeout_ms=180_000, retry_backoff_ms=500)
    await producer.start()
    await producer.partitions_for(REGISTRATION_EVENTS)  # metadata now, while the broker answers
    poison_key = f"poison-{uuid.uuid4()}".encode()
    try:
        traffic = asyncio.create_task(register_all(registration.url, registrations, per_second=40))
        await answered(registrations, 60)
        faults.kill_kafka()
        poison = asyncio.create_task(poison_sent_during_outage(producer, poison_key))
        await asyncio.sleep(10)
        # Kafka's outage is reported, and registration stays ready: its outbox keeps what it accepts.
        status, readiness = await registration.readiness()
        assert (status, readiness["kafka"]) == (200, "degraded"), readiness
        await asyncio.sleep(OUTAGE_SECONDS - 10)
        faults.start_kafka()
        await traffic
        await asyncio.wait_for(poison, 120)
    finally:
        faults.start_kafka()  # nothing if it runs: a failed check must not leave the next tests without a broker
        await producer.stop()

    accepted = [r.registration_id for r in registrations if r.status == 201]
    assert len(accepted) == len(registrations), [r.attempts for r in registrations if r.status != 201][:5]

    async def take():
        expected = await tally.expected_from_registrations(env, accepted)
        return await tally.count(
            env, since, expected, accepted=accepted, session_ids=sessions, ignore_dead_letter_keys={poison_key}
        )

    outcome, _ = await tally.settle(take, timeout=180)
    assert outcome.unsent_outbox == 0, faults.log_tails()
    assert (outcome.rows, outcome.confirmed, outcome.vouchers) == (300, 300, 300), faults.log_tails()
    assert outcome.emails_by_kind == {"registration_confirmed": 300, "voucher_issued": 300}, faults.log_tails()
    assert outcome.distinct_message_ids == outcome.emails == 600
    assert (outcome.lost, outcome.duplicated, outcome.dead_letters) == (0, 0, 0)

    async def groups_that_dead_lettered_the_poison() -> list[str]:
        dead = await tally.dead_letters(env, since)
        return sorted(headers_of(r)["dlq_consumer_group"] for r in dead if r.key == poison_key)

    assert await eventually(groups_that_dead_lettered_the_poison, timeout=60), faults.log_tails()
    await asyncio.sleep(3)  # room for a wrong second dead letter
    assert await groups_that_dead_lettered_the_poison() == ["notifications", "ticketing"]
    assert await faults.health() == dict.fromkeys(faults.services, 200), faults.log_tails()
