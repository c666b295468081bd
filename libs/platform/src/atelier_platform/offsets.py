"""Commit the offsets of handled records — never of a record still being handled.

Committing after every record halves a consumer's throughput. Here the offsets of handled
records are committed at most every `interval` seconds, and once more shortly after the last
one, so an idle consumer shows no lag. Only offsets of records whose handling finished are
ever committed, whatever the consumer has already fetched. Pending offsets are committed when
partitions are revoked and when the process stops (each record's own offset as it finishes),
so a rebalance or a clean shutdown redelivers nothing; after a crash at most `interval` worth
of handled records comes again, and the inbox ignores them. An offset never moves backwards.

Commits run in a task of their own, each given up after `timeout` and tried again: the handling
of records never waits for one, so a broker slow to answer, or a client that never answers
(aiokafka's consumer has been seen to wait for its group coordinator forever after the broker was
killed), costs warnings and a later commit, not a consumer that silently stops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

log = structlog.get_logger(__name__)

COMMIT_TIMEOUT = 10.0  # seconds; a healthy broker answers in milliseconds


class HandledOffsets(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no type information
    def __init__(self, interval: float, timeout: float = COMMIT_TIMEOUT) -> None:
        self._interval = interval
        self._timeout = timeout
        self._pending: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}  # the highest this member committed, per partition
        self._last_commit = 0.0
        self._lock = asyncio.Lock()
        self._flush: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = False

    async def handled(self, consumer: AIOKafkaConsumer, records: Iterable[ConsumerRecord]) -> None:
        if not isinstance(consumer, AIOKafkaConsumer):
            return  # FastStream's in-memory test broker: there are no offsets to keep
        self._consumer = consumer
        for record in records:
            tp = TopicPartition(record.topic, record.partition)
            self._pending[tp] = max(self._pending.get(tp, 0), record.offset + 1)
        if self._stopping:
            await self.commit(consumer)
        elif self._flush is None or self._flush.done():
            self._flush = asyncio.create_task(self._commit_soon(consumer))

    async def _commit_soon(self, consumer: AIOKafkaConsumer) -> None:
        """Commit once `interval` has passed since the last commit (at once when it has), until nothing is pending:
        records handled meanwhile and a commit that failed are committed by the next round."""
        while True:
            await asyncio.sleep(self._last_commit + self._interval - time.monotonic())
            await self.commit(consumer)
            if not self._pending:
                return

    async def commit(self, consumer: AIOKafkaConsumer, partitions: set[TopicPartition] | None = None) -> None:
        """Commit what is pending: for `partitions` (being revoked), or else for the partitions assigned now.

        Entries of partitions no longer assigned are dropped: another member has them.
        """
        async with self._lock:  # one commit at a time, so offsets only move forward
            scope = consumer.assignment() if partitions is None else partitions
            offsets = {
                tp: offset
                for tp, offset in self._pending.items()
                if tp in scope and offset > self._committed.get(tp, -1)
            }
            for tp in list(self._pending) if partitions is None else partitions:
                self._pending.pop(tp, None)
            self._last_commit = time.monotonic()
            if not offsets:
                return
            try:
                await asyncio.wait_for(consumer.commit(offsets), self._timeout)
            except (CommitFailedError, IllegalStateError) as exc:
                # The partitions moved to another member: it will see these records again.
                log.info("offsets not committed after a rebalance", error=type(exc).__name__)
            except (KafkaError, TimeoutError) as exc:  # the broker is away, or did not answer in time
                log.warning("offsets not committed, will try again", error=repr(exc))
                for tp, offset in offsets.items():
                    self._pending[tp] = max(self._pending.get(tp, 0), offset)
            else:
                self._committed.update(offsets)

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Still ours for a moment: commit what was handled, then forget them."""
        if self._consumer is not None and revoked:
            await self.commit(self._consumer, set(revoked))
        for tp in revoked:
            self._pending.pop(tp, None)
            self._committed.pop(tp, None)  # another member may take them further meanwhile

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass

    async def stop(self) -> None:
        """The process is stopping: commit what is pending, and each record in hand as it finishes."""
        self._stopping = True
        if self._consumer is not None:
            await self.commit(self._consumer)  # after the one in flight, if any
        if self._flush is not None:
            self._flush.cancel()  # nothing is left for it to commit
