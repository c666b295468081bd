"""The resources of one service process, opened in the lifespan and closed after it."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from .db import create_pool
from .outbox import OutboxRelay
from .supervise import Supervisor
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
    supervisor: Supervisor = field(default_factory=Supervisor)


Worker = Callable[[Runtime], Awaitable[None]]


def task_names(workers: Sequence[Worker]) -> list[str]:
    """A distinct name per worker for logs and restart counts: `Deliverer.run`, `decide-2`."""
    names: list[str] = []
    for worker in workers:
        owner = getattr(worker, "__self__", None)
        name = worker.__name__ if owner is None else f"{type(owner).__name__}.{worker.__name__}"
        names.append(name if name not in names else f"{name}-{names.count(name) + 1}")
    return names


@contextlib.asynccontextmanager
async def open_runtime(
    *,
    database_url: str,
    bootstrap_servers: str,
    broker: KafkaBroker,
    workers: Sequence[Worker] = (),
    housekeeping: Sequence[Worker] = (),
    before_start: Callable[[Runtime], None] = lambda runtime: None,
) -> AsyncIterator[Runtime]:
    """Pool, idempotent producer, outbox relay and background workers; the broker last.

    Every background task runs under the runtime's supervisor: `workers` are critical (one that
    keeps failing makes the process unhealthy), `housekeeping` tasks are only restarted.
    """
    await ensure_topics(bootstrap_servers)
    pool = await create_pool(database_url)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    relay = OutboxRelay(pool, producer)
    runtime = Runtime(pool=pool, producer=producer, relay=relay, broker=broker)
    before_start(runtime)
    supervisor = runtime.supervisor
    supervisor.start("outbox-relay", relay.run)
    for name, worker in zip(task_names([*workers, *housekeeping]), [*workers, *housekeeping], strict=True):
        supervisor.start(name, functools.partial(worker, runtime), critical=worker in workers)
    await broker.start()
    try:
        yield runtime
    finally:
        await broker.stop()
        await runtime.supervisor.stop()
        await producer.stop()
        await pool.close()
