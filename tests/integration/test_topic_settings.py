"""Topics on the real broker are created as the settings say, and dead-letter sizes can be read."""

from __future__ import annotations

import uuid

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from atelier_devkit.kafka import publish_event
from atelier_platform.topics import DAY_MS, TopicSettings, dlq_sizes, ensure_topics
from atelier_schemas import CloudEvent
from atelier_schemas.topics import dead_letter


async def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries}


async def test_a_new_topic_and_its_dead_letter_topic_get_the_configured_retention_segments_and_insync_replicas(
    infra, monkeypatch
):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"settings-test.{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("KAFKA_TOPIC_RETENTION_MS_BY_TOPIC", f'{{"{topic}": {3 * DAY_MS}}}')
    monkeypatch.setenv("KAFKA_TOPIC_MIN_INSYNC_REPLICAS", "1")  # the test broker is alone

    await ensure_topics(bootstrap, [topic])

    configs = await topic_configs(bootstrap, topic)
    assert (configs["retention.ms"], configs["min.insync.replicas"]) == (str(3 * DAY_MS), "1")
    dlq_configs = await topic_configs(bootstrap, dead_letter(topic))
    assert dlq_configs["retention.ms"] == str(30 * DAY_MS) == str(TopicSettings().dlq_retention_ms)
    # Kafka deletes only closed segments: a day-long segment bounds how long a record outlives its retention.
    assert configs["segment.ms"] == dlq_configs["segment.ms"] == str(DAY_MS)


async def test_dlq_sizes_counts_the_records_of_each_dead_letter_topic(infra):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"settings-test.{uuid.uuid4().hex[:12]}"
    await ensure_topics(bootstrap, [topic])
    for n in range(3):
        event = CloudEvent(type="be.atelier.test.happened.v1", source="/tests", subject=f"k-{n}", data={"n": n})
        await publish_event(bootstrap, event, event.subject, dead_letter(topic))

    assert await dlq_sizes(bootstrap, [topic]) == {dead_letter(topic): 3}
