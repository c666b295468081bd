"""The resources of one service process, opened in the lifespan and closed after it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
import structlog
from faststream.kafka import KafkaBroker

from .db import create_pool
from .kafka_client import broker_security, process_settings
from .outbox import OutboxRelay
from .producer import Producer
from .retention import PLATFORM_PURGES, Purge, RetentionSettings, purge_forever
from .subscribe import flush_offsets
from .supervise import Supervisor
from .topics import ensure_topics

log = structlog.get_logger(__name__)
KAFKA_CONNECTED = "connected to kafka: topics exist, subscribers started"

# Shutdown on SIGTERM, at most (seconds): HTTP requests in hand, offsets, records in hand,
# producers and lease, pool. The sum is SHUTDOWN_GRACE; give the container 25 s.
HTTP_GRACE = 6.0
OFFSETS_GRACE = 2.0
CONSUMER_GRACE = 6.0
CLOSE_GRACE = 3.0
POOL_GRACE = 1.5
SHUTDOWN_GRACE = HTTP_GRACE + OFFSETS_GRACE + CONSUMER_GRACE + 1 + CLOSE_GRACE + POOL_GRACE  # 19.5


def create_broker(bootstrap_servers: str) -> KafkaBroker:
    """The FastStream broker, logging through our JSON logs instead of its own handler.

    Its per-record "Received"/"Processed" lines go to DEBUG: EventConsumer logs each outcome.
    On stop it lets the records in hand finish for up to CONSUMER_GRACE seconds.
    """
    return KafkaBroker(
        bootstrap_servers,
        logger=logging.getLogger("atelier.kafka"),
        log_level=logging.DEBUG,
        graceful_timeout=CONSUMER_GRACE,
        security=broker_security(process_settings()),
    )


@dataclass
class Runtime:
    pool: asyncpg.Pool
    producer: Producer  # for dead letters; the relay has a producer of its own
    relay: OutboxRelay
    broker: KafkaBroker
    supervisor: Supervisor
    kafka_connected: asyncio.Event = field(default_factory=asyncio.Event)  # topics made, subscribers started


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
    purges: Sequence[Purge] = (),
    before_start: Callable[[Runtime], None] = lambda runtime: None,
    supervisor: Supervisor | None = None,
) -> AsyncIterator[Runtime]:
    """Pool, producers, outbox relay, background workers and the broker.

    Only the database is needed to start: Kafka is connected in the background (topics, then
    the relay and the subscribers), retried until it answers, so HTTP is served meanwhile and
    the outbox keeps what is accepted. Every background task runs under the runtime's
    supervisor: `workers` are critical (one that keeps failing makes the process unhealthy),
    `housekeeping` tasks are only restarted, like the retention purges (the platform's, then `purges`).
    """
    retention = RetentionSettings()  # before anything opens: a bad setting stops the start
    pool = await create_pool(database_url)
    relay_producer = Producer(bootstrap_servers, name="outbox-relay")
    relay = OutboxRelay(pool, relay_producer)
    supervisor = supervisor or Supervisor()
    dead_letters = Producer(bootstrap_servers, name="dead-letters")
    runtime = Runtime(pool=pool, producer=dead_letters, relay=relay, broker=broker, supervisor=supervisor)
    before_start(runtime)
    topics_exist = asyncio.Event()

    async def connect_kafka() -> None:
        if process_settings().kafka_create_topics:  # else an operator (Strimzi) owns them
            await ensure_topics(bootstrap_servers)
        topics_exist.set()
        try:
            await broker.start()
        except BaseException:
            await broker.stop()  # what did start, so the next attempt begins clean
            raise
        runtime.kafka_connected.set()
        log.info(KAFKA_CONNECTED)

    async def publish() -> None:
        await topics_exist.wait()  # else the broker would create them with its default partitions
        await relay.run()

    supervisor.start("kafka-connect", connect_kafka, critical=False, forever=False)
    supervisor.start("outbox-relay", publish)
    supervisor.start("outbox-wakeups", functools.partial(relay.listen, database_url), critical=False)
    supervisor.start(
        "retention", functools.partial(purge_forever, pool, [*PLATFORM_PURGES, *purges], retention), critical=False
    )
    for name, worker in zip(task_names([*workers, *housekeeping]), [*workers, *housekeeping], strict=True):
        supervisor.start(name, functools.partial(worker, runtime), critical=worker in workers)
    try:
        yield runtime
    finally:
        # From now on each record's offset is committed as it completes; then the broker takes no
        # new records and lets those in hand finish. Bounded: Kafka may be the thing that is down.
        await _within(flush_offsets(broker), OFFSETS_GRACE)
        await _within(broker.stop(), CONSUMER_GRACE + 1)
        await supervisor.stop()
        steps = asyncio.gather(relay.release(), relay_producer.stop(), runtime.producer.stop(), return_exceptions=True)
        await _within(steps, CLOSE_GRACE)
        if not await _within(pool.close(), POOL_GRACE):
            pool.terminate()


async def _within(step: Awaitable[object], timeout: float) -> bool:
    """Wait for a shutdown step, but not longer than `timeout`: a dead broker or database must not hold up the exit."""
    try:
        await asyncio.wait_for(step, timeout)
    except Exception as exc:
        log.warning("shutdown step did not finish in time", error=repr(exc))
        return False
    return True
