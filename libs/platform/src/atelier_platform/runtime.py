"""The resources of one service process, opened in the lifespan and closed after it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from .db import create_pool
from .outbox import OutboxRelay
from .topics import ensure_topics

log = structlog.get_logger(__name__)


def create_broker(bootstrap_servers: str) -> KafkaBroker:
    """The FastStream broker, logging through our JSON logs instead of its own handler.

    Its per-record "Received"/"Processed" lines go to DEBUG: EventConsumer logs each outcome.
    """
    return KafkaBroker(bootstrap_servers, logger=logging.getLogger("atelier.kafka"), log_level=logging.DEBUG)


@dataclass
class Runtime:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    relay: OutboxRelay
    broker: KafkaBroker
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


Worker = Callable[[Runtime], Awaitable[None]]


@contextlib.asynccontextmanager
async def open_runtime(
    *,
    database_url: str,
    bootstrap_servers: str,
    broker: KafkaBroker,
    workers: Sequence[Worker] = (),
    before_start: Callable[[Runtime], None] = lambda runtime: None,
) -> AsyncIterator[Runtime]:
    """Pool, idempotent producer, outbox relay and background workers; the broker last."""
    await ensure_topics(bootstrap_servers)
    pool = await create_pool(database_url)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    relay = OutboxRelay(pool, producer)
    runtime = Runtime(pool=pool, producer=producer, relay=relay, broker=broker)
    before_start(runtime)
    runtime.tasks = [asyncio.create_task(relay.run(), name="outbox-relay")]
    runtime.tasks += [asyncio.create_task(w(runtime), name=w.__name__) for w in workers]
    await broker.start()
    try:
        yield runtime
    finally:
        await broker.stop()
        for task in runtime.tasks:
            task.cancel()
        await asyncio.gather(*runtime.tasks, return_exceptions=True)
        await producer.stop()
        await pool.close()
