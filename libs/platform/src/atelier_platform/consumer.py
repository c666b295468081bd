"""Consuming events: envelope check, dead letters, inbox dedupe, retry of transient failures.

A subscriber hands each batch of raw records Kafka gave it to `EventConsumer.handle_batch`. A
record that is not one of our events is dead-lettered alone; one of a type this consumer ignores
costs nothing; the rest are applied in Kafka's order in one transaction (one commit, one fsync)
with their inbox rows and the outbox rows the handlers write. A handler that can never succeed
dead-letters its own record and the batch is decided again without it; a transient failure
retries the whole batch. The subscriber commits the offsets only after the batch committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import ConsumerRecord
from atelier_schemas import CloudEvent, InvalidEnvelope, Message, parse
from atelier_schemas.topics import dead_letter
from opentelemetry import trace
from pydantic import ValidationError

from .error_text import describe
from .errors import EarlierEventsFailed, is_transient
from .logs import correlation_id
from .metrics import DEAD_LETTERS
from .producer import Producer
from .telemetry import TRACEPARENT, span_under
from .telemetry import enabled as tracing

log = structlog.get_logger(__name__)

Handler = Callable[[asyncpg.Connection, CloudEvent, Any], Awaitable[None]]
Handlers = dict[type[Message], Handler]  # what a service does with each event type it consumes
# What a service does around the handlers of a batch, in its transaction, given the events they apply.
AroundBatch = Callable[[asyncpg.Connection, Sequence[Message]], contextlib.AbstractAsyncContextManager[None]]


@contextlib.asynccontextmanager
async def nothing_around(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AsyncIterator[None]:
    yield


# One row per event id of the batch; an id already there (or twice in the batch) comes back once or not at all.
_INBOX = """
INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING RETURNING event_id
"""
# A record dead-lettered is remembered by its place in Kafka: when its offset was not committed before
# a rebalance, the member handed it next must not dead-letter it again. A replayed copy has a new place.
_SEEN = "SELECT EXISTS (SELECT FROM inbox WHERE consumer = $1 AND event_id = $2)"
_REMEMBER = "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"


@dataclass(frozen=True)
class _Work:
    record: ConsumerRecord
    event: CloudEvent
    payload: Message
    handler: Handler

    @property
    def correlation(self) -> str:
        return self.event.correlation_id or self.event.id

    def span(self) -> contextlib.AbstractContextManager[None]:
        """The record's own span in its own trace: FastStream's span of a batch starts a trace of its own."""
        if not tracing():
            return contextlib.nullcontext()
        traceparent = next((v.decode(errors="replace") for k, v in self.record.headers or () if k == TRACEPARENT), None)
        return span_under(f"{self.record.topic} process", traceparent, trace.SpanKind.CONSUMER)


class _Permanent(Exception):
    """A handler failed in a way no retry can change; carries its record out of the rolled-back transaction."""

    def __init__(self, work: _Work, error: Exception) -> None:
        super().__init__(work.event.id)
        self.work, self.error = work, error


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        pool: asyncpg.Pool,
        producer: Producer,
        handlers: Handlers,
        after_commit: Callable[[], None] = lambda: None,
        around_batch: AroundBatch = nothing_around,
        max_attempts: int = 8,
        max_backoff: float = 10.0,
    ) -> None:
        self.group = group
        self._pool = pool
        self._producer = producer
        self._handlers = handlers
        self._after_commit = after_commit
        self._around_batch = around_batch
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff

    async def handle(self, record: ConsumerRecord) -> None:
        """Handle one record: a batch of one."""
        await self.handle_batch([record])

    async def handle_batch(self, records: Sequence[ConsumerRecord]) -> None:
        """Handle records in their order. Raises only for transient failures, so the batch is redelivered."""
        work = [item for record in records if (item := await self._work_for(record)) is not None]
        await self._decide(work)

    async def _decide(self, work: list[_Work]) -> None:
        attempt = 0
        while work:
            try:
                applied = await self._apply(work)
            except _Permanent as failed:  # a bug or a broken rule: this record can never succeed
                await self._give_up(failed.work, failed.error)
                work = [item for item in work if item is not failed.work]
                continue
            except Exception as exc:
                if not is_transient(exc):
                    # Not a handler's failure (the inbox insert, the commit): one record at a time tells whose.
                    if len(work) == 1:
                        await self._give_up(work[0], exc)
                    else:
                        for item in work:
                            await self._decide([item])
                    return
                attempt += 1
                if attempt == self._max_attempts:
                    log.warning("giving up for now; the batch will be redelivered", error=describe(exc))
                    raise
                delay = min(self._max_backoff, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)
                log.warning(
                    "transient failure, retrying",
                    attempt=attempt,
                    delay=round(delay, 2),
                    error=describe(exc),
                    records=len(work),
                )
                await asyncio.sleep(delay)
            else:
                for item in work:
                    outcome = "event handled" if item.event.id in applied else "duplicate event ignored"
                    log.info(outcome, type=item.event.type, event_id=item.event.id, correlation_id=item.correlation)
                return

    async def _give_up(self, item: _Work, error: Exception) -> None:
        log.error(
            "handler failed permanently",
            event_id=item.event.id,
            type=item.event.type,
            correlation_id=item.correlation,
            exc_info=error,
        )
        await self.dead_letter(item.record, error)

    async def _work_for(self, record: ConsumerRecord) -> _Work | None:
        """What to do with a record: None when it was dead-lettered or is of a type this consumer ignores."""
        try:
            event = CloudEvent.from_kafka(record.headers, record.value)
            payload = parse(event)
        except (InvalidEnvelope, ValidationError) as exc:
            await self.dead_letter(record, exc)
            return None
        handler = None if payload is None else self._handlers.get(type(payload))
        if payload is None or handler is None:
            log.debug("event type not handled, skipped", type=event.type, event_id=event.id)
            return None
        return _Work(record, event, payload, handler)

    async def _apply(self, work: list[_Work]) -> set[str]:
        """Apply what the inbox has not seen, in one transaction, inside `around_batch`; the ids applied."""
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = {row["event_id"] for row in await conn.fetch(_INBOX, self.group, [w.event.id for w in work])}
            applying: list[_Work] = []
            for item in work:
                if item.event.id in fresh:
                    fresh.discard(item.event.id)  # a second copy in the batch is a duplicate
                    applying.append(item)
            if applying:
                async with self._around_batch(conn, [item.payload for item in applying]):
                    for item in applying:
                        await self._handle(conn, item)
        applied = {item.event.id for item in applying}
        if applied:
            self._after_commit()
        return applied

    async def _handle(self, conn: asyncpg.Connection, item: _Work) -> None:
        token = correlation_id.set(item.correlation)
        try:
            with item.span():
                await item.handler(conn, item.event, item.payload)
        except Exception as exc:
            if is_transient(exc) or isinstance(exc, EarlierEventsFailed):
                raise
            raise _Permanent(item, exc) from exc
        finally:
            correlation_id.reset(token)

    async def dead_letter(self, record: ConsumerRecord, error: Exception) -> None:
        """Send `record` to its dead-letter topic, once per group: sent first, then remembered, so a crash
        in between sends it twice rather than never."""
        place = f"dead-lettered {record.topic}/{record.partition}/{record.offset}"
        if await self._pool.fetchval(_SEEN, self.group, place):
            log.info("already dead-lettered", topic=record.topic, partition=record.partition, offset=record.offset)
            return
        reason = describe(error)[:2000]
        headers = [
            *(record.headers or ()),
            ("dlq_consumer_group", self.group.encode()),
            ("dlq_error", reason.encode()),
            ("dlq_original_topic", record.topic.encode()),
            ("dlq_original_partition", str(record.partition).encode()),
            ("dlq_original_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            dead_letter(record.topic), value=record.value, key=record.key, headers=headers
        )
        await self._pool.execute(_REMEMBER, self.group, place)
        DEAD_LETTERS.labels(dead_letter(record.topic), self.group).inc()
        log.warning(
            "record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=type(error).__name__,
        )
