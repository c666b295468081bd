"""Transactional outbox: append in the caller's transaction, relay to Kafka afterwards."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from atelier_schemas import Message, to_cloud_event

from .logs import correlation_id
from .telemetry import relayed_headers, trace_headers

log = structlog.get_logger(__name__)

# Only one relay per database publishes at a time, so events of a key keep their order.
_RELAY_LOCK = 0x0A7E11E2


_INSERT = "INSERT INTO outbox (event_id, topic, key, headers, value) VALUES ($1, $2, $3, $4, $5)"


def _row(
    message: Message, source: str, correlation: str | None = None, traceparent: str | None = None
) -> tuple[str, str, str, str, bytes]:
    event = to_cloud_event(message, source=source, correlation_id=correlation or correlation_id.get())
    headers, value = event.to_kafka()
    return event.id, message.TOPIC, message.key(), json.dumps({**headers, **trace_headers(traceparent)}), value


async def append(conn: asyncpg.Connection, message: Message, *, source: str) -> str:
    """Record `message` for publication; call inside the transaction that changed the state."""
    row = _row(message, source)
    await conn.execute(_INSERT, *row)
    return row[0]


async def append_many(
    conn: asyncpg.Connection,
    messages: list[Message],
    *,
    source: str,
    correlation_ids: list[str | None] | None = None,
    traceparents: list[str | None] | None = None,
) -> None:
    """`append` for many messages in one round trip, in this order.

    `correlation_ids` and `traceparents` (one per message) when the messages answer different requests.
    """
    correlations = correlation_ids or [None] * len(messages)
    traces = traceparents or [None] * len(messages)
    await conn.executemany(
        _INSERT,
        [_row(m, source, c, t) for m, c, t in zip(messages, correlations, traces, strict=True)],
    )


class OutboxRelay:
    """Publishes unsent outbox rows in order, marks them sent; survives restarts."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.5,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Something was appended: publish now rather than at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            try:
                sent = await self.relay_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox relay failed, will retry", error=str(exc))
                sent = 0
            if sent < self._batch_size:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), self._idle_seconds)
                except TimeoutError:
                    pass

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were sent."""
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT position, topic, key, headers, value FROM outbox"
                " WHERE sent_at IS NULL ORDER BY position LIMIT $1",
                self._batch_size,
            )
            if not rows:
                return 0
            deliveries = [
                await self._producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"].encode(),
                    headers=[(k, v.encode()) for k, v in relayed_headers(row["headers"], row["topic"]).items()],
                )
                for row in rows
            ]
            await asyncio.gather(*deliveries)
            await conn.execute(
                "UPDATE outbox SET sent_at = now() WHERE position = ANY($1::bigint[])",
                [row["position"] for row in rows],
            )
        log.debug("outbox relayed", count=len(rows))
        return len(rows)


async def unsent_count(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
