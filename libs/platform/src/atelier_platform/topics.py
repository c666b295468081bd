"""Create the topics a service uses, with their dead-letter topics, if they do not exist."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from atelier_schemas.topics import ALL, dead_letter

PARTITIONS = 6


async def ensure_topics(bootstrap_servers: str, partitions: int = PARTITIONS) -> None:
    wanted = [*ALL, *(dead_letter(t) for t in ALL)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, partitions, 1) for t in wanted if t not in existing]
        if missing:
            # A concurrent creator may win the race; TopicAlreadyExists is then expected.
            await admin.create_topics(missing)
    finally:
        await admin.close()
