"""What the benchmarks share: a fresh stack of their own, sessions to register for, a table on the terminal."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
from aiokafka import AIOKafkaProducer
from atelier_devkit.kafka import cloud_event
from atelier_devkit.stack import cli, infra, services, state
from atelier_schemas import Message
from atelier_schemas.vocabulary import LANGUAGES

CONCURRENCY = 200  # requests in flight
# aiohttp, not httpx: at 200 connections httpx itself tops out near 60 requests/s on this machine.
# Idle connections are dropped before uvicorn's 5 s keep-alive ends: a request written on a connection
# the server is closing at that moment fails ("Cannot write to closing transport").
KEEPALIVE_SECONDS = 2.0
# Kafka's default, not the test stacks' 0: a service started on a backlog has its processes join as one group.
# With 0 its first process took every partition and worked alone until the second joined at its next
# heartbeat (3 s), then all paused for the rebalance: most of ticketing's drain of 10,000 when measured alone.
GROUP_JOIN_DELAY_MS = 3000


def connector() -> aiohttp.TCPConnector:
    """The client's connections: CONCURRENCY of them, never reused once the server may have closed them."""
    return aiohttp.TCPConnector(limit=CONCURRENCY, keepalive_timeout=KEEPALIVE_SECONDS)


def fresh_stack(name: str) -> dict[str, str]:
    """Kafka, durable Postgres, SMTP and the three services, from empty; returns their env variables."""
    cli.wipe(name)
    recorded = state.load_state(name)
    recorded["kafka_group_join_delay_ms"] = GROUP_JOIN_DELAY_MS
    env = infra.start_infra(name, recorded)
    return {**env, **services.start_services(name, recorded, env)}


async def post(client: aiohttp.ClientSession, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    async with client.post(path, json=body, headers=headers) as response:
        return response.status, await response.json()


async def new_sessions(client: aiohttp.ClientSession, token: str, count: int, capacity: int) -> list[str]:
    admin = {"Authorization": f"Bearer {token}"}
    titles = {f"{field}_{lang}": "Bench" for field in ("title", "description") for lang in LANGUAGES}
    status, workshop = await post(client, "/admin/workshops", {"topic": "seo", **titles, "duration_minutes": 60}, admin)
    assert status == 201, workshop
    # Far enough ahead to be free, within the two years ahead the admin API accepts.
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400 + uuid.uuid4().int % 300)
    ids = []
    for n in range(count):
        starts = base + timedelta(hours=2 * n)
        status, session = await post(
            client,
            "/admin/sessions",
            {
                "workshop_id": workshop["id"],
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "room": "Bench",
                "language": "en",
                "capacity": capacity,
            },
            admin,
        )
        assert status == 201, session
        ids.append(session["id"])
    return ids


async def send_all(bootstrap: str, topic: str, messages: Sequence[Message]) -> None:
    """`messages` on `topic` as another service sends them, each under its key, as fast as the producer batches."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = []
        for message in messages:
            headers, value = cloud_event(message).to_kafka()
            sent.append(
                await producer.send(
                    topic,
                    value=value,
                    key=message.key().encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        sys.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + "\n")
