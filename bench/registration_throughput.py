"""Registration throughput against the running dev stack (`make up` first). Prints a table.

1. 2,000 concurrent requests for one 25-seat session: no overbooking, 1,975 waitlisted.
2. 10,000 registrations spread over 100 sessions.
For each: requests/s, latency percentiles, confirmed count, and the outbox lag — the time from the
last response until every event of the run is on Kafka (the relay marks a row sent after Kafka acks).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
import demo  # noqa: E402  (reads the dev stack's settings)

CONCURRENCY = 200


async def new_sessions(client: httpx.AsyncClient, token: str, count: int, capacity: int) -> list[str]:
    headers = {"Authorization": f"Bearer {token}"}
    workshop = await client.post(
        "/admin/workshops",
        headers=headers,
        json={
            "topic": "seo",
            "title_fr": "Bench",
            "title_nl": "Bench",
            "title_en": "Bench",
            "description_fr": ".",
            "description_nl": ".",
            "description_en": ".",
            "duration_minutes": 60,
        },
    )
    workshop.raise_for_status()
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400 + uuid.uuid4().int % 1000)
    ids = []
    for n in range(count):
        starts = base + timedelta(hours=2 * n)
        session = await client.post(
            "/admin/sessions",
            headers=headers,
            json={
                "workshop_id": workshop.json()["id"],
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "room": "Bench",
                "language": "en",
                "capacity": capacity,
            },
        )
        session.raise_for_status()
        ids.append(session.json()["id"])
    return ids


async def register_all(
    client: httpx.AsyncClient, session_ids: list[str], total: int
) -> tuple[list[float], list, float]:
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []

    async def one(n: int):
        async with gate:
            started = time.perf_counter()
            response = await client.post(
                f"/sessions/{session_ids[n % len(session_ids)]}/registrations",
                json={"name": "Bench", "email": f"bench-{uuid.uuid4().hex}@example.be", "language": "en"},
            )
            latencies.append(time.perf_counter() - started)
            return response

    started = time.perf_counter()
    responses = await asyncio.gather(*(one(n) for n in range(total)))
    return latencies, responses, time.perf_counter() - started


async def outbox_lag(database_url: str) -> float:
    conn = await asyncpg.connect(database_url)
    started = time.perf_counter()
    try:
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL"):
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000


async def scenario(name: str, env: dict, sessions: int, capacity: int, total: int) -> list[str]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=env["REGISTRATION_URL"], timeout=60, limits=limits) as client:
        session_ids = await new_sessions(client, env["REGISTRATION_ADMIN_TOKEN"], sessions, capacity)
        latencies, responses, elapsed = await register_all(client, session_ids, total)
    lag = await outbox_lag(env["REGISTRATION_DATABASE_URL"])
    statuses = [r.json().get("status") if r.status_code == 201 else str(r.status_code) for r in responses]
    confirmed = statuses.count("confirmed")
    overbooked = "no" if confirmed <= sessions * capacity else "YES"
    return [
        name,
        f"{total}",
        f"{total / elapsed:.0f}",
        f"{percentile(latencies, 50):.0f}",
        f"{percentile(latencies, 95):.0f}",
        f"{percentile(latencies, 99):.0f}",
        f"{confirmed} / {sessions * capacity}",
        overbooked,
        f"{statuses.count('waitlisted')}",
        f"{sum(1 for s in statuses if s not in ('confirmed', 'waitlisted'))}",
        f"{lag:.2f}",
    ]


async def main() -> None:
    env = demo.read_env()
    rows = [
        await scenario("one 25-seat session", env, sessions=1, capacity=25, total=2_000),
        await scenario("100 sessions x 100 seats", env, sessions=100, capacity=100, total=10_000),
    ]
    header = [
        "scenario",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "confirmed / seats",
        "overbooked",
        "waitlisted",
        "errors",
        "outbox lag s",
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        sys.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
