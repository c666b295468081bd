"""The subscriber on real Kafka: offsets are committed only for handled batches, and soon."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from atelier_devkit.kafka import publish_raw
from atelier_platform.runtime import create_broker
from atelier_platform.subscribe import flush_offsets, subscribe


class ScriptedConsumer:
    """Stands in for EventConsumer: records what it saw and finished, fails or waits when told to."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        self.done: list[bytes] = []
        self.fail_once: set[bytes] = set()
        self.hold: dict[bytes, asyncio.Event] = {}

    async def handle_batch(self, records) -> None:
        for record in records:
            self.seen.append(record.value)
            if record.value in self.fail_once:
                self.fail_once.discard(record.value)
                raise OSError("database unreachable")
            if record.value in self.hold:
                await self.hold[record.value].wait()
        self.done.extend(record.value for record in records)


async def new_topic(infra) -> str:
    name = f"test.offsets.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    await admin.create_topics([NewTopic(name, 1, 1)])
    await admin.close()
    return name


@pytest.fixture
async def topic(infra):
    return await new_topic(infra)


async def committed(infra, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return found.offset if found else 0


async def eventually(predicate, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def run_subscriber(infra, topics: list[str], group: str, consumer: ScriptedConsumer):
    broker = create_broker(infra["KAFKA_BOOTSTRAP_SERVERS"])
    subscribe(broker, topics, group, lambda: consumer, commit_interval=0.2)
    await broker.start()
    return broker


async def test_a_failed_record_is_redelivered_and_idle_lag_drops_to_zero(infra, topic):
    group, consumer = f"g-{uuid.uuid4().hex[:8]}", ScriptedConsumer()
    consumer.fail_once.add(b"2")
    broker = await run_subscriber(infra, [topic], group, consumer)
    try:
        for n in (b"1", b"2", b"3"):
            await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], topic, n, key=b"k")

        async def all_committed():
            return await committed(infra, group, topic) == 3

        await eventually(all_committed)
        # The failed record's batch came again (record 1 too, when it was in the same batch).
        assert consumer.seen.count(b"2") == 2 and consumer.seen[-1] == b"3"
        assert consumer.done == [b"1", b"2", b"3"]  # each finished once, in order
    finally:
        await broker.stop()


async def test_one_subscriber_reads_several_topics_through_one_kafka_consumer(infra, topic):
    other = await new_topic(infra)
    group, consumer = f"g-{uuid.uuid4().hex[:8]}", ScriptedConsumer()
    broker = await run_subscriber(infra, [topic, other], group, consumer)
    try:
        [subscriber] = broker.subscribers
        for value, to in ((b"a1", topic), (b"b1", other), (b"a2", topic), (b"b2", other)):
            await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], to, value, key=b"k")

        async def both_committed():
            return (await committed(infra, group, topic), await committed(infra, group, other)) == (2, 2)

        await eventually(both_committed)
        assert sorted(consumer.done) == [b"a1", b"a2", b"b1", b"b2"]
        assert [v for v in consumer.done if v.startswith(b"a")] == [b"a1", b"a2"]  # each topic's order kept
        assert {tp.topic for tp in subscriber.consumer.assignment()} == {topic, other}  # one client holds both
    finally:
        await broker.stop()


async def test_the_offset_of_a_record_still_being_handled_is_never_committed(infra, topic):
    group, consumer = f"g-{uuid.uuid4().hex[:8]}", ScriptedConsumer()
    consumer.hold[b"2"] = asyncio.Event()
    broker = await run_subscriber(infra, [topic], group, consumer)
    try:
        await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], topic, b"1", key=b"k")

        async def first_committed():
            return await committed(infra, group, topic) == 1

        await eventually(first_committed)
        for n in (b"2", b"3"):
            await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], topic, n, key=b"k")

        async def second_in_hand():
            return consumer.seen[-1:] == [b"2"]

        await eventually(second_in_hand)
        await asyncio.sleep(1)  # several commit intervals pass while record 2 is in hand
        assert await committed(infra, group, topic) == 1

        consumer.hold[b"2"].set()

        async def all_committed():
            return await committed(infra, group, topic) == 3

        await eventually(all_committed)
    finally:
        await broker.stop()


async def test_on_stop_handled_offsets_are_committed_and_the_record_in_hand_finishes_first(infra, topic):
    group, consumer = f"g-{uuid.uuid4().hex[:8]}", ScriptedConsumer()
    consumer.hold[b"3"] = asyncio.Event()
    broker = create_broker(infra["KAFKA_BOOTSTRAP_SERVERS"])
    # Far apart timed commits: only the first record's offset is committed before the stop.
    subscribe(broker, [topic], group, lambda: consumer, commit_interval=600)
    await broker.start()
    for n in (b"1", b"2", b"3"):  # one at a time, each in a batch of its own
        await publish_raw(infra["KAFKA_BOOTSTRAP_SERVERS"], topic, n, key=b"k")
        if n != b"3":

            async def finished(n=n):
                return n in consumer.done

            await eventually(finished)

    async def third_in_hand():
        return consumer.seen[-1:] == [b"3"]

    await eventually(third_in_hand)
    assert await committed(infra, group, topic) == 1

    await flush_offsets(broker)  # what open_runtime does on SIGTERM, before stopping the broker
    assert await committed(infra, group, topic) == 2
    stopping = asyncio.create_task(broker.stop())
    await asyncio.sleep(0.3)
    consumer.hold[b"3"].set()  # the record in hand finishes within the grace period
    await stopping
    assert await committed(infra, group, topic) == 3
