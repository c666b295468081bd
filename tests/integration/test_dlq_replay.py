"""The replay tool on real Kafka: dead letters go back to their topic, once, without dlq_* headers."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from atelier_devkit.kafka import headers_of, publish_event, read_topic
from atelier_platform.consumer import EventConsumer
from atelier_platform.replay import replay
from atelier_schemas import CloudEvent
from atelier_schemas.topics import dead_letter


@pytest.fixture
def topic() -> str:
    """A topic of this test alone, so other tests' dead letters never mix in."""
    return f"replay-test.{uuid.uuid4().hex[:12]}"


def an_event(n: int) -> CloudEvent:
    return CloudEvent(type="be.atelier.test.happened.v1", source="/tests", subject=f"k-{n}", data={"n": n})


async def dead_letter_events(bootstrap: str, pool: asyncpg.Pool, topic: str, groups: list[str]) -> list[CloudEvent]:
    """Publish one event per entry of `groups` to `topic`, then dead-letter it as that group's consumer would."""
    events = [an_event(n) for n in range(len(groups))]
    for event in events:
        await publish_event(bootstrap, event, event.subject, topic)
    records = {headers_of(r)["ce_id"]: r for r in await read_topic(bootstrap, topic)}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for event, group in zip(events, groups, strict=True):
            consumer = EventConsumer(group=group, pool=pool, producer=producer, handlers={})
            await consumer.dead_letter(records[event.id], ValueError(f"handler bug hit by event {event.id}"))
    finally:
        await producer.stop()
    return events


async def test_dead_letters_go_back_to_their_topic_once_with_their_own_headers_only(infra, platform_pool, topic):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    events = await dead_letter_events(bootstrap, platform_pool, topic, ["ticketing", "ticketing", "notifications"])
    original_headers = {headers_of(r)["ce_id"]: r.headers for r in await read_topic(bootstrap, topic)}

    assert await replay(bootstrap, dead_letter(topic), group="ticketing") == {"ticketing": 2}
    assert await replay(bootstrap, dead_letter(topic), group="ticketing") == {"ticketing": 0}
    assert await replay(bootstrap, dead_letter(topic)) == {"notifications": 1, "ticketing": 0}
    assert await replay(bootstrap, dead_letter(topic)) == {"notifications": 0, "ticketing": 0}

    records = await read_topic(bootstrap, topic)
    by_id: dict[str, list] = {}
    for record in records:
        by_id.setdefault(headers_of(record)["ce_id"], []).append(record)
    assert sorted(by_id) == sorted(e.id for e in events)
    for event in events:
        original, moved = by_id[event.id]  # each event twice: as published, then moved back once
        assert moved.key == original.key == event.subject.encode()
        assert moved.value == original.value
        assert moved.headers == original_headers[event.id]
        assert not [name for name in headers_of(moved) if name.startswith("dlq_")]


async def run_replay_command(bootstrap: str, *args: str) -> str:
    """`python -m atelier_platform.replay ARGS` as an operator runs it; returns what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "atelier_platform.replay",
        *args,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_a_dry_run_prints_what_would_move_and_moves_nothing(infra, platform_pool, topic):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    [event] = await dead_letter_events(bootstrap, platform_pool, topic, ["ticketing"])

    dry = await run_replay_command(bootstrap, "--from", dead_letter(topic), "--group", "ticketing", "--dry-run")
    assert re.search(rf"would move \d+:0 to {re.escape(topic)}: {event.type} {event.id} \(group ticketing: ", dry)
    assert "(group ticketing: ValueError)" in dry  # the type, never a message that may quote the record
    assert "would move 1 dead letter(s) of group ticketing" in dry
    assert len(await read_topic(bootstrap, topic)) == 1

    real = await run_replay_command(bootstrap, "--from", dead_letter(topic), "--group", "ticketing")
    assert "moved 1 dead letter(s) of group ticketing" in real
    assert [headers_of(r)["ce_id"] for r in await read_topic(bootstrap, topic)] == [event.id, event.id]
