"""Kafka subscribers that hand batches of raw records to an EventConsumer, committing only after it."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from faststream import AckPolicy, StreamMessage
from faststream.kafka import KafkaBroker

from .consumer import EventConsumer
from .metrics import watch_consumer_lag
from .offsets import HandledOffsets
from .settings import CONSUMER_BATCH_MAX

COMMIT_INTERVAL = 0.2  # seconds
# A fetch held for gathering is answered as soon as this much waits: about a hundred of our events, a
# backlog that needs no more gathering.
GATHER_BYTES = 64 * 1024

_offsets_of: weakref.WeakKeyDictionary[KafkaBroker, list[HandledOffsets]] = weakref.WeakKeyDictionary()


def subscribe(
    broker: KafkaBroker,
    topics: Sequence[str],
    group: str,
    consumer: Callable[[], EventConsumer],
    batch_max: int = CONSUMER_BATCH_MAX,
    *,
    commit_interval: float = COMMIT_INTERVAL,
    gather_ms: int = 0,
) -> None:
    """Consume `topics` in `group`, through one Kafka consumer per process: at-least-once, a record's offset
    committed only after it was handled.

    One consumer for all of a service's topics, not one per topic: each consumer fetches, heartbeats
    and commits on its own, and the broker answers each; one per topic cost about a sixth of the
    chain's CPU at a steady 100 registrations/s (the README's benchmarks). Kafka hands over what it
    has fetched, up to `batch_max` records at once; each partition's records stay in order. Without
    `gather_ms` the broker answers a fetch as soon as one record is there, so a steady trickle comes
    one record a batch; with it, the broker holds the fetch until `gather_ms` have passed or
    `GATHER_BYTES` wait, and a batch's fixed costs (a fetch, a transaction, a publish) are shared by
    the records of that time. Offsets are committed in batches (see offsets.HandledOffsets). A
    transient failure that outlasts the retries seeks back to the batch's first record in each
    partition (nack), so the batch is redelivered, not skipped.
    The AsyncAPI documents show each topic on its own: see asyncapi.declare_subscribers.
    """
    offsets = HandledOffsets(commit_interval)
    for topic in topics:
        watch_consumer_lag(group, topic)
    _offsets_of.setdefault(broker, []).append(offsets)

    async def whole_message(message: StreamMessage[Any]) -> StreamMessage[Any]:
        # The handler gets the message itself, undecoded: FastStream would decode JSON first, and a
        # record that is not JSON must reach EventConsumer so it can be dead-lettered instead of
        # redelivered forever. (Asking for the message as a context parameter instead costs a
        # thread-pool hop per record.)
        return message

    async def handle(message: Any) -> None:
        records = message.raw_message  # a tuple, in each partition's order
        try:
            await consumer().handle_batch(records)
        except BaseException:
            await message.nack()
            raise
        await offsets.handled(message.consumer, records)

    broker.subscriber(
        *topics,
        group_id=group,
        batch=True,
        max_records=batch_max,
        ack_policy=AckPolicy.MANUAL,
        decoder=whole_message,
        auto_offset_reset="earliest",
        listener=offsets,  # commits what was handled before a partition is revoked
        include_in_schema=False,
        # Without gathering, aiokafka's defaults: answered once a byte waits, held at most 500 ms if none does.
        fetch_min_bytes=GATHER_BYTES if gather_ms else 1,
        fetch_max_wait_ms=gather_ms or 500,
    )(handle)


async def flush_offsets(broker: KafkaBroker) -> None:
    """The process is stopping: commit the handled records' offsets now, and each one still in hand as it ends."""
    await asyncio.gather(*(offsets.stop() for offsets in _offsets_of.get(broker, [])))
