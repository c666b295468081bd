"""The raw floor on this machine: what Kafka, Postgres and the SMTP server do alone with the same work.

Each runs with the services stopped, on the same servers the chain used, and returns records per second.
"""

from __future__ import annotations

import asyncio
import json
import smtplib
import time
import uuid
from email.message import EmailMessage

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

PARTITIONS = 6  # as every topic of ours (KAFKA_TOPIC_PARTITIONS)
CONNECTIONS = 4


async def kafka(bootstrap: str, count: int, size: int) -> float:
    """Produce `count` records of `size` bytes (idempotent, acks=all, as the relay) and consume them all."""
    topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        await consumer.seek_to_beginning()
        value = b"x" * size

        async def consume() -> None:
            seen = 0
            while seen < count:
                batches = await consumer.getmany(timeout_ms=200)
                seen += sum(len(records) for records in batches.values())

        started = time.monotonic()
        consuming = asyncio.create_task(consume())
        sent = [await producer.send(topic, value, key=uuid.uuid4().bytes) for _ in range(count)]
        await asyncio.gather(*sent)
        await asyncio.wait_for(consuming, timeout=300)
        return count / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def postgres(database_url: str, count: int, size: int) -> float:
    """Insert `count` rows with a `size`-byte JSON document, one durable transaction each, over 4 connections."""
    pool = await asyncpg.create_pool(database_url, min_size=CONNECTIONS, max_size=CONNECTIONS)
    try:
        await pool.execute("CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, payload jsonb NOT NULL)")
        payload = json.dumps({"padding": "x" * max(size - 16, 0)})
        queue = iter(range(count))

        async def insert_from(conn: asyncpg.Connection) -> None:
            for _ in queue:
                await conn.execute("INSERT INTO bench_floor VALUES ($1, $2)", uuid.uuid4(), payload)

        started = time.monotonic()
        connections = [await pool.acquire() for _ in range(CONNECTIONS)]
        try:
            await asyncio.gather(*(insert_from(conn) for conn in connections))
        finally:
            for conn in connections:
                await pool.release(conn)
        return count / (time.monotonic() - started)
    finally:
        await pool.close()


def _send(host: str, port: int, messages: range, size: int) -> None:
    body = ("x" * 75 + "\n") * (size // 76)  # plain lines, so it goes as 7bit text of about `size` bytes
    with smtplib.SMTP(host, port) as client:
        for n in messages:
            message = EmailMessage()
            message["From"] = "floor@atelier.brussels"
            message["To"] = f"floor-{n}@example.be"
            message["Subject"] = "Floor"
            message.set_content(body)
            client.send_message(message)


async def smtp(host: str, port: int, count: int, size: int) -> float:
    """Send `count` messages of about `size` bytes with smtplib, over 4 connections side by side."""
    started = time.monotonic()
    await asyncio.gather(
        *(asyncio.to_thread(_send, host, port, range(n, count, CONNECTIONS), size) for n in range(CONNECTIONS))
    )
    return count / (time.monotonic() - started)
