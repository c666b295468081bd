"""Commit the offsets of handled records — never of a record still being handled.

Committing after every record halves a consumer's throughput. Here the offsets of handled
records are committed at most every `interval` seconds, and once more shortly after the last
one, so an idle consumer shows no lag. Only offsets of records whose handling finished are
ever committed, whatever the consumer has already fetched. After a crash or a rebalance, at
most `interval` worth of handled records is delivered again, and the inbox ignores them.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError

log = structlog.get_logger(__name__)


class HandledOffsets:
    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._pending: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        self._lock = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None

    async def handled(self, consumer: AIOKafkaConsumer, record: ConsumerRecord) -> None:
        if not isinstance(consumer, AIOKafkaConsumer):
            return  # FastStream's in-memory test broker: there are no offsets to keep
        self._pending[TopicPartition(record.topic, record.partition)] = record.offset + 1
        if time.monotonic() - self._last_commit >= self._interval:
            await self.commit(consumer)
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._commit_later(consumer))

    async def _commit_later(self, consumer: AIOKafkaConsumer) -> None:
        await asyncio.sleep(self._interval)
        await self.commit(consumer)

    async def commit(self, consumer: AIOKafkaConsumer) -> None:
        async with self._lock:  # one commit at a time, so offsets only move forward
            assigned = consumer.assignment()
            offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
            self._pending.clear()
            self._last_commit = time.monotonic()
            if not offsets:
                return
            try:
                await consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                # The partitions moved to another member: it will see these records again.
                log.info("offsets not committed after a rebalance", error=type(exc).__name__)
