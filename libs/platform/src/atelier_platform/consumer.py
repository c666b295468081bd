"""Consuming events: envelope check, dead letters, inbox dedupe, retry of transient failures.

A subscriber hands every raw record to `EventConsumer.handle`. The effect and the inbox row
are written in one transaction; the subscriber's ack policy commits the offset only after it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import structlog
from aiokafka import ConsumerRecord
from atelier_schemas import CloudEvent, InvalidEnvelope, Message, parse
from atelier_schemas.topics import dead_letter
from pydantic import ValidationError

from .error_text import describe
from .errors import is_transient
from .logs import correlation_id
from .metrics import DEAD_LETTERS
from .producer import Producer

log = structlog.get_logger(__name__)

Handler = Callable[[asyncpg.Connection, CloudEvent, Any], Awaitable[None]]


class EventConsumer:
    def __init__(
        self,
        *,
        group: str,
        pool: asyncpg.Pool,
        producer: Producer,
        handlers: dict[type[Message], Handler],
        after_commit: Callable[[], None] = lambda: None,
        max_attempts: int = 8,
        max_backoff: float = 10.0,
    ) -> None:
        self.group = group
        self._pool = pool
        self._producer = producer
        self._handlers = handlers
        self._after_commit = after_commit
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff

    async def handle(self, record: ConsumerRecord) -> None:
        """Handle one record. Raises only for transient failures, so the record is redelivered."""
        try:
            event = CloudEvent.from_kafka(record.headers, record.value)
            payload = parse(event)
        except (InvalidEnvelope, ValidationError) as exc:
            await self.dead_letter(record, exc)
            return
        handler = None if payload is None else self._handlers.get(type(payload))
        if payload is None or handler is None:
            log.debug("event type not handled, skipped", type=event.type, event_id=event.id)
            return
        token = correlation_id.set(event.correlation_id or event.id)
        try:
            await self._apply_with_retry(handler, event, payload, record)
        finally:
            correlation_id.reset(token)

    async def _apply_with_retry(
        self, handler: Handler, event: CloudEvent, payload: Message, record: ConsumerRecord
    ) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                applied = await self._apply(handler, event, payload)
            except Exception as exc:
                if not is_transient(exc):  # a bug or a broken rule: this record can never succeed
                    log.exception("handler failed permanently", event_id=event.id, type=event.type)
                    await self.dead_letter(record, exc)
                    return
                if attempt == self._max_attempts:
                    log.warning("giving up for now; the record will be redelivered", error=describe(exc))
                    raise
                delay = min(self._max_backoff, 0.2 * 2**attempt) * random.uniform(0.5, 1.0)
                log.warning(
                    "transient failure, retrying",
                    attempt=attempt,
                    delay=round(delay, 2),
                    error=describe(exc),
                    event_id=event.id,
                )
                await asyncio.sleep(delay)
            else:
                log.info("event handled" if applied else "duplicate event ignored", type=event.type, event_id=event.id)
                return

    async def _apply(self, handler: Handler, event: CloudEvent, payload: Message) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
                self.group,
                event.id,
            )
            if not first_time:
                return False
            await handler(conn, event, payload)
        self._after_commit()
        return True

    async def dead_letter(self, record: ConsumerRecord, error: Exception) -> None:
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
        DEAD_LETTERS.labels(dead_letter(record.topic), self.group).inc()
        log.warning(
            "record dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=type(error).__name__,
        )
