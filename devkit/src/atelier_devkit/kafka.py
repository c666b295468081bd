"""Publish raw records and read whole topics, as an outside client would."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from atelier_schemas import CloudEvent, Message, to_cloud_event


async def publish_raw(
    bootstrap: str, topic: str, value: bytes, *, key: bytes, headers: dict[str, str] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value=value,
            key=key,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def publish_event(bootstrap: str, event: CloudEvent, key: str, topic: str) -> None:
    headers, value = event.to_kafka()
    await publish_raw(bootstrap, topic, value, key=key.encode(), headers=headers)


def cloud_event(message: Message) -> CloudEvent:
    return to_cloud_event(message, source="/tests")


async def partition_count(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [description] = await admin.describe_topics([topic])
        return len(description["partitions"])
    finally:
        await admin.close()


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord]:
    """Every record currently on `topic`, from the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    # Let aiokafka's background task start: stopping before it runs raises CancelledError.
    await asyncio.sleep(0.01)
    try:
        partitions = [TopicPartition(topic, p) for p in range(await partition_count(bootstrap, topic))]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def wait_for_records(bootstrap: str, topic: str, predicate, count: int = 1, timeout: float = 30):
    """Poll `topic` until `count` records match `predicate`; returns them."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [r for r in await read_topic(bootstrap, topic) if predicate(r)]
        if len(found) >= count or asyncio.get_running_loop().time() > deadline:
            return found
        await asyncio.sleep(0.5)


def payload(record: ConsumerRecord) -> dict:
    """The JSON value; {} for the poison records other tests leave on shared topics."""
    try:
        return json.loads(record.value)
    except ValueError:
        return {}
