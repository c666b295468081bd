"""Clients built through the platform's connection settings reach the real broker, as those settings say."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from atelier_devkit.databases import fresh_database
from atelier_platform import runtime
from atelier_platform.db import migrate
from atelier_platform.kafka_client import KafkaClientSettings, client_args, process_settings
from pydantic import SecretStr
from ticketing.config import MIGRATIONS


async def test_a_producer_and_a_consumer_built_from_the_settings_carry_a_record(infra):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    args = client_args(KafkaClientSettings(kafka_security_protocol="PLAINTEXT"))
    topic, value = f"kafka-client-test.{uuid.uuid4().hex[:12]}", uuid.uuid4().bytes
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **args)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **args)
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == value


async def test_a_client_told_to_log_in_does_so_and_the_plaintext_listener_refuses_it(infra):
    settings = KafkaClientSettings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="ticketing-kafka",
        kafka_sasl_password=SecretStr("not-a-listener-with-logins"),
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"], request_timeout_ms=5000, **client_args(settings)
    )
    with pytest.raises(KafkaError):
        await asyncio.wait_for(producer.start(), 30)
    await producer.stop()


@pytest.fixture
def topics_left_to_an_operator(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """KAFKA_CREATE_TOPICS=false for this process; the topic lists the runtime asks to create."""
    asked: list[str] = []

    async def ensure_topics(bootstrap_servers: str) -> None:
        asked.append(bootstrap_servers)

    monkeypatch.setenv("KAFKA_CREATE_TOPICS", "false")
    monkeypatch.setattr(runtime, "ensure_topics", ensure_topics)
    process_settings.cache_clear()
    yield asked
    process_settings.cache_clear()


async def test_a_service_whose_topics_belong_to_an_operator_connects_without_creating_any(
    infra, topics_left_to_an_operator
):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "topics") as url:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        async with runtime.open_runtime(
            database_url=url, bootstrap_servers=bootstrap, broker=runtime.create_broker(bootstrap)
        ) as opened:
            await asyncio.wait_for(opened.kafka_connected.wait(), 30)
    assert topics_left_to_an_operator == []
