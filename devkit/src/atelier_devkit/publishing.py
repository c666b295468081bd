"""Publish many events as their producers would, through one producer."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from atelier_schemas import CloudEvent, Message, to_cloud_event


async def publish(bootstrap: str, *messages: Message) -> list[CloudEvent]:
    """Each message as a new CloudEvent on its own topic, keyed as its model says; returns the events."""
    return await republish(bootstrap, *[(m, to_cloud_event(m, source="/tests")) for m in messages])


async def republish(bootstrap: str, *pairs: tuple[Message, CloudEvent]) -> list[CloudEvent]:
    """Send these exact events (same ids): what a redelivery looks like to a consumer."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sent = []
        for message, event in pairs:
            headers, value = event.to_kafka()
            sent.append(
                await producer.send(
                    message.TOPIC,
                    value=value,
                    key=message.key().encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        for delivery in sent:
            await delivery
    finally:
        await producer.stop()
    return [event for _, event in pairs]
