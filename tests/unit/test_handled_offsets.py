"""Handled offsets: the highest per partition, never backwards, committed on revoke and on stop, by a task of
their own that a commit Kafka never answers cannot hold up."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from atelier_platform.offsets import HandledOffsets

A, B = TopicPartition("t", 0), TopicPartition("t", 1)


class RecordingConsumer(AIOKafkaConsumer):
    """Only the two methods HandledOffsets calls, recording the commits."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.commits: list[dict[TopicPartition, int]] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets=None) -> None:
        self.commits.append(dict(offsets))

    def __del__(self) -> None:
        pass


class SilentConsumer(RecordingConsumer):
    """Its commits wait forever while `silent`, as aiokafka's did once for a group coordinator after a broker kill."""

    silent = True

    async def commit(self, offsets=None) -> None:
        while self.silent:
            await asyncio.sleep(0.01)
        await super().commit(offsets)


async def committing() -> None:
    """Let the commit task run."""
    await asyncio.sleep(0.05)


def record(tp: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


async def test_a_redelivered_older_record_never_moves_the_offset_backwards():
    offsets, consumer = HandledOffsets(interval=600), RecordingConsumer({A})
    await offsets.handled(consumer, [record(A, 9)])
    await committing()  # the first commit is immediate
    await offsets.handled(consumer, [record(A, 4)])  # redelivered after a seek back
    await offsets.stop()
    assert consumer.commits == [{A: 10}]


async def test_the_highest_handled_offset_of_each_partition_is_committed_on_stop():
    offsets, consumer = HandledOffsets(interval=600), RecordingConsumer({A, B})
    await offsets.handled(consumer, [record(A, 0)])
    await committing()
    for tp, offset in ((A, 7), (A, 5), (B, 3)):
        await offsets.handled(consumer, [record(tp, offset)])
    await offsets.stop()
    assert consumer.commits == [{A: 1}, {A: 8, B: 4}]


async def test_a_revoked_partition_gets_its_handled_offset_then_is_forgotten():
    offsets, consumer = HandledOffsets(interval=600), RecordingConsumer({A, B})
    await offsets.handled(consumer, [record(A, 0)])
    await committing()
    await offsets.handled(consumer, [record(A, 3)])
    await offsets.handled(consumer, [record(B, 2)])
    await offsets.on_partitions_revoked({A})
    consumer.assigned = {B}
    await offsets.handled(consumer, [record(A, 4)])  # finished after the revoke: another member has A now
    await offsets.stop()
    assert consumer.commits == [{A: 1}, {A: 4}, {B: 3}]


async def test_a_commit_never_answered_holds_up_no_record_and_its_offsets_are_committed_once_kafka_answers():
    offsets, consumer = HandledOffsets(interval=0.01, timeout=0.1), SilentConsumer({A, B})
    for offset in range(3):  # each handled at once, though the first commit never returns
        await asyncio.wait_for(offsets.handled(consumer, [record(A, offset)]), 0.05)
    await asyncio.sleep(0.3)  # commits given up and tried again meanwhile
    assert consumer.commits == []
    consumer.silent = False
    await committing()
    assert consumer.commits == [{A: 3}]  # an idle partition's offsets are not left behind
    await offsets.handled(consumer, [record(B, 0)])
    await offsets.stop()
    assert consumer.commits == [{A: 3}, {B: 1}]
