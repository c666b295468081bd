"""RegisterParticipant commands as another service would send them, including one too big for Kafka."""

from __future__ import annotations

import uuid

from aiokafka import AIOKafkaProducer
from atelier_schemas import Participant, RegisterParticipant
from atelier_schemas.topics import REGISTRATION_COMMANDS

from .api import unique_email
from .kafka import cloud_event

HUGE_NAME = "A" * 3_000_000  # Kafka's default limit is 1 MB a record


def command(session_id: str, name: str) -> RegisterParticipant:
    return RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=session_id,
        participant=Participant(name=name, email=unique_email(), language="en"),
        wants_voucher=True,
        origin_station_id="008821006",
    )


async def send_compressed(bootstrap: str, *commands: RegisterParticipant) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="gzip", max_request_size=8_000_000)
    await producer.start()
    try:
        for message in commands:
            headers, value = cloud_event(message).to_kafka()
            await producer.send_and_wait(
                REGISTRATION_COMMANDS,
                value=value,
                key=message.key().encode(),
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
    finally:
        await producer.stop()
