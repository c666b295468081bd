"""EventConsumer's decisions: dead-letter, skip, retry, or apply once."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from aiokafka import ConsumerRecord
from atelier_platform.consumer import EventConsumer
from atelier_schemas import CloudEvent, Participant, RegistrationConfirmed, SessionInfo, to_cloud_event


class FakeConnection:
    def __init__(self, inbox: set) -> None:
        self.inbox = inbox

    async def fetchval(self, sql: str, consumer: str, event_id: str):
        if (consumer, event_id) in self.inbox:
            return None
        self.inbox.add((consumer, event_id))
        return True

    @contextlib.asynccontextmanager
    async def transaction(self):
        before = set(self.inbox)
        try:
            yield
        except BaseException:
            self.inbox.intersection_update(before)  # rolled back
            raise


class FakePool:
    def __init__(self) -> None:
        self.inbox: set = set()

    @contextlib.asynccontextmanager
    async def acquire(self):
        yield FakeConnection(self.inbox)


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


def record(event: CloudEvent, value: bytes | None = None) -> ConsumerRecord:
    headers, body = event.to_kafka()
    return ConsumerRecord(
        topic="registration.events",
        partition=2,
        offset=17,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=body if value is None else value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


def consumer_with(handler) -> tuple[EventConsumer, FakeProducer]:
    producer = FakeProducer()
    consumer = EventConsumer(
        group="tests", pool=FakePool(), producer=producer, handlers={RegistrationConfirmed: handler}, max_backoff=0.01
    )
    return consumer, producer


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
