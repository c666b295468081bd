"""A producer that cannot reach the broker fails its send in bounded time instead of waiting for ever."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from atelier_platform import producer as producer_module
from atelier_platform.producer import Producer


async def test_a_send_whose_producer_never_starts_fails_in_time_and_the_next_send_starts_a_new_one(monkeypatch):
    starts: list[AIOKafkaProducer] = []
    stops: list[AIOKafkaProducer] = []

    async def never_starts(self: AIOKafkaProducer) -> None:
        starts.append(self)
        await asyncio.Event().wait()  # aiokafka waiting for a producer id from a broker that never answers

    async def stop(self: AIOKafkaProducer) -> None:
        stops.append(self)

    monkeypatch.setattr(AIOKafkaProducer, "start", never_starts)
    monkeypatch.setattr(AIOKafkaProducer, "stop", stop)
    monkeypatch.setattr(producer_module, "START_TIMEOUT", 0.2)
    producer = Producer("127.0.0.1:9", name="test")

    async with asyncio.timeout(5):  # far beyond START_TIMEOUT: reaching it means a send hung
        for _ in range(2):
            with pytest.raises(TimeoutError):
                await producer.send_and_wait("registration.events.dlq", b"{}")

    assert len(starts) == 2 and starts[0] is not starts[1]
    assert stops == starts  # each half-started producer was closed, none kept
