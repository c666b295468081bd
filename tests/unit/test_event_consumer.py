"""EventConsumer's decisions: dead-letter, skip, retry, or apply once — alone and in batches."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import ConsumerRecord
from atelier_platform.consumer import EventConsumer
from atelier_schemas import CloudEvent, Participant, RegistrationConfirmed, SessionInfo, to_cloud_event


class FakeConnection:
    def __init__(self, pool: FakePool) -> None:
        self.pool = pool

    async def fetch(self, sql: str, consumer: str, event_ids: list[str]) -> list[dict]:
        """The inbox insert: the ids not seen before, each once."""
        fresh = []
        for event_id in event_ids:
            if (consumer, event_id) not in self.pool.inbox:
                self.pool.inbox.add((consumer, event_id))
                fresh.append({"event_id": event_id})
        return fresh

    @contextlib.asynccontextmanager
    async def transaction(self):
        self.pool.transactions += 1
        before, effects = set(self.pool.inbox), len(self.pool.effects)
        try:
            yield
        except BaseException:
            self.pool.inbox.intersection_update(before)  # rolled back
            del self.pool.effects[effects:]
            raise
        self.pool.commits += 1


class FakePool:
    def __init__(self) -> None:
        self.inbox: set = set()
        self.effects: list[str] = []  # what handlers wrote, rolled back with the inbox
        self.acquired = self.transactions = self.commits = 0

    @contextlib.asynccontextmanager
    async def acquire(self):
        self.acquired += 1
        yield FakeConnection(self)

    async def fetchval(self, sql: str, consumer: str, place: str) -> bool:
        """Was this record dead-lettered by the group already?"""
        return (consumer, place) in self.inbox

    async def execute(self, sql: str, consumer: str, place: str) -> None:
        """Remember a record as dead-lettered."""
        self.inbox.add((consumer, place))


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def send_and_wait(self, topic, value, key, headers):
        self.sent.append((topic, {k: v.decode() for k, v in headers}))


def confirmed() -> RegistrationConfirmed:
    starts = datetime(2027, 1, 12, 9, tzinfo=UTC)
    return RegistrationConfirmed(
        registration_id=uuid.uuid4(),
        registration_code="R-1",
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


def record(event: CloudEvent, value: bytes | None = None, offset: int = 17) -> ConsumerRecord:
    headers, body = event.to_kafka()
    return ConsumerRecord(
        topic="registration.events",
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=body if value is None else value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def consumer_with(handler, pool: FakePool | None = None) -> tuple[EventConsumer, FakeProducer]:
    producer = FakeProducer()
    consumer = EventConsumer(
        group="tests",
        pool=pool or FakePool(),
        producer=producer,
        handlers={RegistrationConfirmed: handler},
        max_backoff=0.01,
    )
    return consumer, producer


def batch_of(count: int) -> list[ConsumerRecord]:
    return [record(to_cloud_event(confirmed(), source="/t"), offset=n) for n in range(count)]


def event_id(record: ConsumerRecord) -> str:
    return dict(record.headers)["ce_id"].decode()


async def test_a_record_that_is_not_json_is_dead_lettered_with_where_it_came_from():
    consumer, producer = consumer_with(lambda *a: None)
    await consumer.handle(record(to_cloud_event(confirmed(), source="/t"), value=b"{oops"))
    [(topic, headers)] = producer.sent
    assert topic == "registration.events.dlq"
    assert headers["dlq_consumer_group"] == "tests"
    assert (headers["dlq_original_partition"], headers["dlq_original_offset"]) == ("2", "17")
    assert "not JSON" in headers["dlq_error"]


async def test_an_event_of_a_type_nobody_handles_is_skipped_not_dead_lettered():
    handled = []
    consumer, producer = consumer_with(lambda *a: handled.append(a))
    await consumer.handle(record(CloudEvent(type="be.atelier.unknown.v1", source="/t", data={})))
    assert producer.sent == [] and handled == []


async def test_the_same_event_twice_is_applied_once():
    handled = []

    async def handler(conn, event, payload):
        handled.append(event.id)

    consumer, _ = consumer_with(handler)
    event = to_cloud_event(confirmed(), source="/t")
    await consumer.handle(record(event))
    await consumer.handle(record(event))
    assert handled == [event.id]


async def test_a_transient_failure_is_retried_until_it_passes():
    attempts = []

    async def flaky(conn, event, payload):
        attempts.append(1)
        if len(attempts) < 3:
            raise asyncpg.CannotConnectNowError("database starting up")

    consumer, producer = consumer_with(flaky)
    await consumer.handle(record(to_cloud_event(confirmed(), source="/t")))
    assert len(attempts) == 3 and producer.sent == []


async def test_a_handler_that_can_never_succeed_dead_letters_the_record():
    async def broken(conn, event, payload):
        raise KeyError("session")

    consumer, producer = consumer_with(broken)
    await consumer.handle(record(to_cloud_event(confirmed(), source="/t")))
    [(_, headers)] = producer.sent
    assert headers["dlq_error"].startswith("KeyError")


async def test_a_routine_database_restart_is_retried_not_dead_lettered():
    attempts = []

    async def during_restart(conn, event, payload):
        attempts.append(1)
        if len(attempts) == 1:
            raise asyncpg.AdminShutdownError("terminating connection due to administrator command")
        if len(attempts) == 2:
            raise asyncpg.InternalClientError("got result for unknown protocol state 3")

    consumer, producer = consumer_with(during_restart)
    await consumer.handle(record(to_cloud_event(confirmed(), source="/t")))
    assert len(attempts) == 3 and producer.sent == []


async def test_a_value_the_driver_cannot_encode_is_dead_lettered_at_once():
    attempts = []

    async def bad_value(conn, event, payload):
        attempts.append(1)
        raise asyncpg.DataError("invalid input for query argument $1")

    consumer, producer = consumer_with(bad_value)
    await consumer.handle(record(to_cloud_event(confirmed(), source="/t")))
    [(_, headers)] = producer.sent
    assert len(attempts) == 1 and headers["dlq_error"].startswith("DataError")


async def test_a_batch_is_applied_in_its_order_in_one_transaction():
    handled, pool = [], FakePool()

    async def handler(conn, event, payload):
        handled.append(event.id)

    consumer, _ = consumer_with(handler, pool)
    records = batch_of(5)
    await consumer.handle_batch(records)
    assert handled == [event_id(r) for r in records]
    assert (pool.transactions, pool.commits) == (1, 1)


async def test_a_batch_of_events_the_consumer_ignores_takes_no_connection():
    pool = FakePool()
    consumer, producer = consumer_with(lambda *a: None, pool)
    unknown = [record(CloudEvent(type="be.atelier.unknown.v1", source="/t", data={}), offset=n) for n in range(50)]
    await consumer.handle_batch(unknown)
    assert (pool.acquired, producer.sent) == (0, [])


async def test_a_record_that_fails_for_good_is_dead_lettered_alone_and_the_rest_of_its_batch_applied():
    records = batch_of(5)
    doomed = event_id(records[2])

    async def handler(conn, event, payload):
        if event.id == doomed:
            raise KeyError("session")
        conn.pool.effects.append(event.id)

    pool = FakePool()
    consumer, producer = consumer_with(handler, pool)
    await consumer.handle_batch(
        [*records[:1], record(CloudEvent(type="x", source="/t", data={}), b"{oops", 9), *records[1:]]
    )
    assert pool.effects == [event_id(r) for r in records if event_id(r) != doomed]
    assert [headers["dlq_original_offset"] for _, headers in producer.sent] == ["9", "2"]
    assert ("tests", doomed) not in pool.inbox


async def test_a_transient_failure_retries_the_whole_batch_and_applies_each_record_once():
    records = batch_of(4)
    calls: list[str] = []

    async def flaky(conn, event, payload):
        calls.append(event.id)
        if len(calls) == 3:
            raise asyncpg.DeadlockDetectedError("deadlock detected")

    pool = FakePool()
    consumer, producer = consumer_with(flaky, pool)
    await consumer.handle_batch(records)
    ids = [event_id(r) for r in records]
    assert calls == ids[:3] + ids  # the first two were rolled back with the third, then redone
    assert (pool.commits, producer.sent) == (1, [])


async def test_a_batch_that_keeps_failing_transiently_is_given_back_for_redelivery():
    async def down(conn, event, payload):
        raise OSError("database unreachable")

    consumer, producer = consumer_with(down)
    consumer._max_attempts = 2
    with pytest.raises(OSError):
        await consumer.handle_batch(batch_of(3))
    assert producer.sent == []


async def test_events_already_in_the_inbox_or_twice_in_a_batch_are_applied_once():
    handled = []

    async def handler(conn, event, payload):
        handled.append(event.id)

    consumer, _ = consumer_with(handler)
    records = batch_of(4)
    await consumer.handle_batch(records[:2])  # handled, then the process stopped before committing offsets
    await consumer.handle_batch([*records, records[3]])
    assert handled == [event_id(r) for r in records]


async def test_what_goes_around_a_batch_runs_once_in_its_transaction_with_the_events_it_applies():
    steps: list = []
    pool = FakePool()

    @contextlib.asynccontextmanager
    async def around(conn, payloads):
        steps.append(("before", pool.transactions, pool.commits, [p.registration_code for p in payloads]))
        yield
        steps.append(("after", pool.transactions, pool.commits))

    async def handler(conn, event, payload):
        steps.append(payload.registration_code)

    handlers = {RegistrationConfirmed: handler}
    consumer = EventConsumer(group="tests", pool=pool, producer=FakeProducer(), handlers=handlers, around_batch=around)
    events = [confirmed().model_copy(update={"registration_code": f"R-{n}"}) for n in range(3)]
    records = [record(to_cloud_event(event, source="/t")) for event in events]
    await consumer.handle_batch(records[:1])
    await consumer.handle_batch([*records, records[2]])  # the first already applied, the last twice

    assert steps == [
        ("before", 1, 0, ["R-0"]),
        "R-0",
        ("after", 1, 0),
        ("before", 2, 1, ["R-1", "R-2"]),
        "R-1",
        "R-2",
        ("after", 2, 1),
    ]
    assert pool.commits == 2
