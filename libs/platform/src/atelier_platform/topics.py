"""Create the topics a service uses, with their dead-letter topics, as the settings say; report DLQ sizes.

    python -m atelier_platform.topics dlq-sizes    # records waiting in each dead-letter topic

Replication, `min.insync.replicas` and retention come from `KAFKA_TOPIC_*` settings (1/1 locally;
3/2 in a real cluster, where `acks=all` then means two copies on disk). Dead-letter topics keep
their records 30 days by default: long enough for a fix and a `make replay-dlq`. A topic that
already exists is left as it is (a cluster's topics are managed by its operator).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from atelier_schemas.topics import ALL, dead_letter
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .kafka_client import client_args
from .settings import ServiceSettings

DAY_MS = 24 * 3600 * 1000


class TopicSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_TOPIC_", extra="ignore", hide_input_in_errors=True)

    partitions: int = Field(default=6, ge=1, description="Partitions of each new topic")
    replication_factor: int = Field(default=1, ge=1, description="Copies of each partition (3 in production)")
    min_insync_replicas: int = Field(default=1, ge=1, description="Copies acks=all waits for (2 in production)")
    retention_ms: int = Field(default=7 * DAY_MS, ge=-1, description="How long an event topic keeps records")
    dlq_retention_ms: int = Field(
        default=30 * DAY_MS,
        ge=-1,
        validation_alias=AliasChoices("KAFKA_DLQ_RETENTION_MS"),
        description="How long a dead-letter topic keeps records: the time left to fix and replay them",
    )
    segment_ms: int = Field(
        default=DAY_MS,
        ge=60_000,
        description="A segment is closed after this long; Kafka deletes only closed segments, so a record lives"
        " at most retention plus this (docs/adr/0007)",
    )
    retention_ms_by_topic: dict[str, int] = Field(
        default_factory=dict, description='Per-topic retention, JSON: {"registration.events": 1209600000}'
    )

    def retention_of(self, topic: str) -> int:
        default = self.dlq_retention_ms if topic.endswith(".dlq") else self.retention_ms
        return self.retention_ms_by_topic.get(topic, default)

    def new_topic(self, topic: str) -> NewTopic:
        configs = {
            "retention.ms": str(self.retention_of(topic)),
            "segment.ms": str(self.segment_ms),
            "min.insync.replicas": str(self.min_insync_replicas),
        }
        return NewTopic(topic, self.partitions, self.replication_factor, topic_configs=configs)


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str] = ALL, settings: TopicSettings | None = None
) -> None:
    """Create `topics` and their dead-letter topics where missing."""
    settings = settings or TopicSettings()
    topics = list(topics)
    wanted = [*topics, *(dead_letter(t) for t in topics)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_args())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [settings.new_topic(t) for t in wanted if t not in existing]
        if missing:
            # A concurrent creator may win the race; TopicAlreadyExists is then expected.
            await admin.create_topics(missing)
    finally:
        await admin.close()


async def dlq_sizes(bootstrap_servers: str, topics: Iterable[str] = ALL) -> dict[str, int]:
    """Records held by each dead-letter topic (end minus start offsets, whatever was replayed already)."""
    dlqs = [dead_letter(t) for t in topics]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_args())
    await admin.start()
    try:
        described = {d["topic"]: d["partitions"] for d in await admin.describe_topics(dlqs)}
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **client_args())
    await consumer.start()
    try:
        sizes = {}
        for topic in dlqs:
            partitions = [TopicPartition(topic, p["partition"]) for p in described.get(topic, ())]
            start, end = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
            sizes[topic] = sum(end[p] - start[p] for p in partitions)
        return sizes
    finally:
        await consumer.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atelier_platform.topics")
    parser.add_argument("command", choices=["dlq-sizes"])
    parser.add_argument("--bootstrap-servers", default=None, help="default: KAFKA_BOOTSTRAP_SERVERS")
    args = parser.parse_args(argv)
    bootstrap = args.bootstrap_servers or ServiceSettings().kafka_bootstrap_servers
    sizes = asyncio.run(dlq_sizes(bootstrap))
    width = max(len(t) for t in sizes)
    lines = [f"{'dead-letter topic':<{width}}  records", *(f"{t:<{width}}  {n:>7}" for t, n in sizes.items())]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
