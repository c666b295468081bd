"""Batches through a consumer on real Kafka and Postgres: one transaction a batch, each key's order kept,
a bad record dead-lettered alone, a half-handled batch applied once when it comes again, a trickle
gathered while the broker holds the fetch."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from atelier_devkit.kafka import headers_of, read_topic
from atelier_devkit.waiting import eventually
from atelier_platform import outbox
from atelier_platform.consumer import EventConsumer
from atelier_platform.errors import TransientFailure
from atelier_platform.producer import Producer
from atelier_platform.runtime import create_broker
from atelier_platform.subscribe import subscribe
from atelier_schemas import (
    CloudEvent,
    Message,
    Participant,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    SessionInfo,
    to_cloud_event,
)
from atelier_schemas.topics import dead_letter

BROKEN = "R-broken"  # the handler can never apply a registration with this code


def confirmed(registration_id: uuid.UUID, code: str) -> RegistrationConfirmed:
    starts = datetime(2027, 1, 12, 9, tzinfo=UTC)
    return RegistrationConfirmed(
        registration_id=registration_id,
        registration_code=code,
        session=SessionInfo(
            session_id=uuid.uuid4(),
            title="SEO",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            room="1",
            language="fr",
        ),
        participant=Participant(name="Lena", email="lena@example.be", language="fr"),
        wants_voucher=False,
    )


async def apply(conn: asyncpg.Connection, event: CloudEvent, message: RegistrationConfirmed) -> None:
    """A handler with an effect and an outbox row, as the services' handlers have."""
    if message.registration_code == BROKEN:
        raise KeyError("session")
    await conn.execute("INSERT INTO applied (key, code) VALUES ($1, $2)", message.key(), message.registration_code)
    await outbox.append(conn, message, source="/tests")


@pytest.fixture
async def pool(platform_pool):
    """A fresh database with the platform's tables (inbox, outbox) and one table of effects."""
    await platform_pool.execute(
        "CREATE TABLE applied (seq bigserial PRIMARY KEY, key text NOT NULL, code text NOT NULL)"
    )
    return platform_pool


@pytest.fixture
async def producer(infra):
    producer = Producer(infra["KAFKA_BOOTSTRAP_SERVERS"], name="tests")
    yield producer
    await producer.stop()


class BatchSizes(EventConsumer):
    """EventConsumer, noting the size of every batch it was handed."""

    sizes: list[int]

    async def handle_batch(self, records) -> None:
        self.sizes.append(len(records))
        await super().handle_batch(records)


def records_of(events: list[CloudEvent], key: bytes = b"k") -> list[ConsumerRecord]:
    """Records as the subscriber hands them over, for a consumer called directly."""
    records = []
    for offset, event in enumerate(events):
        headers, value = event.to_kafka()
        records.append(
            ConsumerRecord(
                topic="test.batches",
                partition=0,
                offset=offset,
                timestamp=0,
                timestamp_type=0,
                key=key,
                value=value,
                checksum=None,
                serialized_key_size=len(key),
                serialized_value_size=len(value),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
        )
    return records


async def codes_applied(pool: asyncpg.Pool) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for row in await pool.fetch("SELECT key, code FROM applied ORDER BY seq"):
        by_key.setdefault(row["key"], []).append(row["code"])
    return by_key


async def write_transactions_during(pool: asyncpg.Pool, work) -> int:
    """How many transactions that wrote anything the server ran while `work` ran (transaction ids taken)."""
    before = await pool.fetchval("SELECT pg_current_xact_id()::text::bigint")
    await work()
    after = await pool.fetchval("SELECT pg_current_xact_id()::text::bigint")
    return after - before - 1


async def send(raw: AIOKafkaProducer, topic: str, message: Message, value: bytes | None = None) -> bytes:
    """Queue `message` (or `value` under its headers) on `topic` under its key; the value sent."""
    headers, body = to_cloud_event(message, source="/tests").to_kafka()
    value = body if value is None else value
    await raw.send(
        topic, value=value, key=message.key().encode(), headers=[(k, v.encode()) for k, v in headers.items()]
    )
    return value


async def committed_total(admin: AIOKafkaAdminClient, group: str, topic: str) -> int:
    offsets = await admin.list_consumer_group_offsets(group)
    return sum(found.offset for tp, found in offsets.items() if tp.topic == topic)


async def test_each_keys_order_is_kept_across_batches_and_only_the_bad_records_are_dead_lettered(infra, pool, producer):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    topic, group = f"test.batches.{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    registrations = [uuid.uuid4() for _ in range(3)]
    published: dict[str, list[str]] = {str(r): [] for r in registrations}
    bad_values, sent = [], 0
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    try:
        await admin.create_topics([NewTopic(topic, 3, 1), NewTopic(dead_letter(topic), 1, 1)])
        await raw.start()
        for n in range(40):  # all written before the subscriber starts, so it takes them in large batches
            message = confirmed(registrations[n % 3], BROKEN if n == 17 else f"R-{n}")
            value = await send(raw, topic, message)
            if n == 17:
                bad_values.append(value)
            else:
                published[message.key()].append(message.registration_code)
            if n == 25:  # not even JSON, among the others of its key
                bad_values.append(await send(raw, topic, message, b"{not json"))
            if n % 5 == 0:  # an event type this consumer ignores
                await send(raw, topic, RegistrationWaitlisted(**message.model_dump(), position=1))
                sent += 1
        sent += 41
        await raw.flush()

        consumer = BatchSizes(group=group, pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})
        consumer.sizes = []
        broker = create_broker(bootstrap)
        subscribe(broker, [topic], group, lambda: consumer)
        await broker.start()
        try:

            async def all_committed() -> bool:
                return await committed_total(admin, group, topic) == sent

            assert await eventually(all_committed, timeout=30, interval=0.2)
        finally:
            await broker.stop()
    finally:
        await raw.stop()
        await admin.close()

    assert await codes_applied(pool) == published  # each key in the order it was written, the broken one left out
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 39  # written in the handlers' transactions
    assert sorted(r.value for r in await read_topic(bootstrap, dead_letter(topic))) == sorted(bad_values)
    assert max(consumer.sizes) > 1


async def test_a_trickle_of_records_comes_in_few_batches_while_the_broker_holds_the_fetch(infra, pool, producer):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    topic, group = f"test.gather.{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    raw = AIOKafkaProducer(bootstrap_servers=bootstrap)
    registration_id = uuid.uuid4()
    consumer = BatchSizes(group=group, pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})
    consumer.sizes = []
    broker = create_broker(bootstrap)
    subscribe(broker, [topic], group, lambda: consumer, gather_ms=2000)
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
        await raw.start()
        await broker.start()

        async def applied(count: int) -> bool:
            return await pool.fetchval("SELECT count(*) FROM applied") == count

        await send(raw, topic, confirmed(registration_id, "R-0"))
        await raw.flush()
        assert await eventually(lambda: applied(1), timeout=30, interval=0.1)  # the consumer has its partition
        consumer.sizes.clear()
        for n in range(1, 9):  # 0.1 s apart: a fetch answered at once would bring each alone
            await send(raw, topic, confirmed(registration_id, f"R-{n}"))
            await raw.flush()
            await asyncio.sleep(0.1)
        assert await eventually(lambda: applied(9), timeout=30, interval=0.1)
    finally:
        await broker.stop()
        await raw.stop()
        await admin.close()

    assert (await codes_applied(pool))[str(registration_id)] == [f"R-{n}" for n in range(9)]
    assert sum(consumer.sizes) == 8
    assert len(consumer.sizes) <= 2  # eight records within the two seconds the broker may hold a fetch


async def test_a_batch_of_a_hundred_events_is_applied_in_one_transaction(pool, producer):
    registration_id = uuid.uuid4()
    events = [to_cloud_event(confirmed(registration_id, f"R-{n}"), source="/tests") for n in range(100)]
    consumer = EventConsumer(group="tests", pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})

    transactions = await write_transactions_during(pool, lambda: consumer.handle_batch(records_of(events)))

    assert transactions < 5  # one, unless the server did something of its own meanwhile; a hundred before
    assert (await codes_applied(pool))[str(registration_id)] == [f"R-{n}" for n in range(100)]


async def test_a_batch_half_handled_before_a_crash_is_applied_once_when_it_comes_again(pool, producer):
    registration_id = uuid.uuid4()
    events = [to_cloud_event(confirmed(registration_id, f"R-{n}"), source="/tests") for n in range(10)]
    records = records_of(events)
    consumer = EventConsumer(group="tests", pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})

    await consumer.handle_batch(records[:4])  # committed, then the process died before committing the offsets
    await consumer.handle_batch(records)  # Kafka hands the whole batch again

    assert (await codes_applied(pool))[str(registration_id)] == [f"R-{n}" for n in range(10)]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 10
    inbox = await pool.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'tests'")
    assert inbox == 10


async def test_a_transient_failure_rolls_the_whole_batch_back_and_applies_it_again(pool, producer):
    registration_id = uuid.uuid4()
    events = [to_cloud_event(confirmed(registration_id, f"R-{n}"), source="/tests") for n in range(6)]
    calls: list[str] = []

    async def flaky(conn: asyncpg.Connection, event: CloudEvent, message: RegistrationConfirmed) -> None:
        calls.append(message.registration_code)
        await apply(conn, event, message)
        if len(calls) == 4:
            raise TransientFailure("the payment service is away")

    consumer = EventConsumer(
        group="tests", pool=pool, producer=producer, handlers={RegistrationConfirmed: flaky}, max_backoff=0.01
    )
    await consumer.handle_batch(records_of(events))

    codes = [f"R-{n}" for n in range(6)]
    assert calls == codes[:4] + codes  # the first four were rolled back together, then all six applied
    assert (await codes_applied(pool))[str(registration_id)] == codes
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 6


async def test_an_event_id_postgres_refuses_is_dead_lettered_alone_and_its_batch_applied(infra, pool, producer):
    registration_id = uuid.uuid4()
    events = [to_cloud_event(confirmed(registration_id, f"R-{n}"), source="/tests") for n in range(3)]
    events[1] = replace(events[1], id=f"{uuid.uuid4()}\x00")  # no Postgres text holds a NUL: the inbox insert fails
    consumer = EventConsumer(group="tests", pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})

    await consumer.handle_batch(records_of(events))

    assert (await codes_applied(pool))[str(registration_id)] == ["R-0", "R-2"]
    dead = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], dead_letter("test.batches"))
    assert [headers_of(r)["ce_id"] for r in dead if headers_of(r)["ce_id"] == events[1].id] == [events[1].id]


async def test_a_bad_record_handed_over_again_is_dead_lettered_once_and_a_replayed_copy_again(infra, pool, producer):
    bad = to_cloud_event(confirmed(uuid.uuid4(), BROKEN), source="/tests")
    consumer = EventConsumer(group="tests", pool=pool, producer=producer, handlers={RegistrationConfirmed: apply})
    [first] = records_of([bad])

    await consumer.handle_batch([first])  # dead-lettered, then the offset was lost in a rebalance
    await consumer.handle_batch([first])  # the member handed the partition next meets it again
    await consumer.handle_batch([replace(first, offset=first.offset + 1000)])  # replayed: a new record

    dead = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], dead_letter("test.batches"))
    offsets = [headers_of(r)["dlq_original_offset"] for r in dead if headers_of(r)["ce_id"] == bad.id]
    assert offsets == [str(first.offset), str(first.offset + 1000)]
