"""Ticketing as the tests see it: one registration's events, records to hand to a consumer,
ticketing's tables, and HTTP clients that call from their own loopback address."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer, ConsumerRecord
from atelier_devkit.kafka import cloud_event, publish_event
from atelier_platform.consumer import EventConsumer, Handlers
from atelier_platform.db import create_pool, migrate
from atelier_schemas import (
    CloudEvent,
    Message,
    TicketIssued,
    TicketRejected,
    TicketValidated,
    TicketVoided,
)
from atelier_schemas.topics import REGISTRATION_EVENTS
from ticketing.batches import around_batch
from ticketing.config import MIGRATIONS, seed_from_base64
from ticketing.handlers import handlers
from ticketing.signing import VoucherSigner

ISSUED, VOIDED, REJECTED, VALIDATED = (TicketIssued.TYPE, TicketVoided.TYPE, TicketRejected.TYPE, TicketValidated.TYPE)


def record_of(event: CloudEvent, topic: str = REGISTRATION_EVENTS) -> ConsumerRecord:
    """The Kafka record that carries `event`, as a subscriber hands it to EventConsumer."""
    headers, value = event.to_kafka()
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=0,
        timestamp=0,
        timestamp_type=0,
        key=(event.subject or "").encode(),
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


async def vouchers_of(conn: asyncpg.Connection | asyncpg.Pool, registration_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM vouchers WHERE registration_id = $1", registration_id)


async def published_types(conn: asyncpg.Connection | asyncpg.Pool, registration_id: uuid.UUID) -> list[str]:
    """Types of the events ticketing's outbox holds for this registration, in order."""
    rows = await conn.fetch(
        "SELECT headers->>'ce_type' AS type FROM outbox WHERE key = $1 ORDER BY position", str(registration_id)
    )
    return [row["type"] for row in rows]


async def handled(conn: asyncpg.Connection | asyncpg.Pool, event_ids: list[str], group: str = "ticketing") -> int:
    """How many of these events the group applied (a dead-lettered event has no inbox row)."""
    return await conn.fetchval(
        "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])", group, event_ids
    )


async def wait_until_handled(conn: asyncpg.Connection, event_ids: list[str], timeout: float = 30) -> int:
    deadline = asyncio.get_running_loop().time() + timeout
    while (count := await handled(conn, event_ids)) < len(event_ids):
        if asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.3)
    return count


def client_from(address: str) -> httpx.AsyncClient:
    """Requests from their own loopback address, so per-client limits of other tests do not touch them."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=10)


@dataclass
class Ticketing:
    """Ticketing's consumer as the service wires it, on real Postgres and Kafka, without HTTP."""

    pool: asyncpg.Pool
    consumers: list[EventConsumer]  # each on its own pool: members of one consumer group
    signer: VoucherSigner
    producer: AIOKafkaProducer  # for dead letters

    async def deliver(self, *events: CloudEvent) -> None:
        for event in events:
            await self.consumers[0].handle(record_of(event))


def consumer_of(pool: asyncpg.Pool, producer: AIOKafkaProducer, by_event: Handlers) -> EventConsumer:
    """A member of ticketing's consumer group as app.py wires it, with these handlers."""
    return EventConsumer(
        group="ticketing", pool=pool, producer=producer, handlers=by_event, around_batch=around_batch()
    )


@contextlib.asynccontextmanager
async def running_ticketing(infra: dict[str, str], consumers: int = 1) -> AsyncIterator[Ticketing]:
    migrate(infra["TICKETING_DATABASE_URL"], MIGRATIONS)
    signer = VoucherSigner(seed_from_base64(infra["TICKETING_SIGNING_KEY"]))
    producer = AIOKafkaProducer(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])  # for dead letters
    await producer.start()
    pools = [await create_pool(infra["TICKETING_DATABASE_URL"]) for _ in range(consumers)]
    try:
        by_event = handlers(Decimal("9.60"), signer)
        yield Ticketing(
            pools[0],
            [consumer_of(p, producer, by_event) for p in pools],
            signer,
            producer,
        )
    finally:
        for pool in pools:
            await pool.close()
        await producer.stop()


async def published(conn: asyncpg.Connection | asyncpg.Pool, registration_id: uuid.UUID, type_: str) -> list[dict]:
    """Payloads of the events of this type that ticketing's outbox holds for this registration."""
    rows = await conn.fetch(
        "SELECT value FROM outbox WHERE key = $1 AND headers->>'ce_type' = $2 ORDER BY position",
        str(registration_id),
        type_,
    )
    return [json.loads(row["value"]) for row in rows]


async def publish(bootstrap: str, *messages: Message) -> list[CloudEvent]:
    """Publish to registration.events as registration would, in this order; the events sent."""
    events = []
    for message in messages:
        events.append(cloud_event(message))
        await publish_event(bootstrap, events[-1], message.key(), REGISTRATION_EVENTS)
    return events


def of_registration(registration_id: uuid.UUID) -> Callable[[ConsumerRecord], bool]:
    return lambda record: record.key == str(registration_id).encode()
