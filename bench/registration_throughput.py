"""Registration throughput on a fresh stack of its own, stopped afterwards. Prints a table.

1. 2,000 concurrent requests for one 25-seat session: no overbooking, 1,975 waitlisted.
2. 10,000 registrations spread over 100 sessions.
Each twice: with the whole system on this machine's cores (ticketing and notifications consuming
and sending mail meanwhile), then with registration alone — its Postgres, Kafka and the load client
still on the same cores, ticketing and notifications paused (SIGSTOP) for the run and resumed
after, as when each service has its own container. For each: requests/s, latency percentiles,
confirmed count, and the outbox lag — the time from the last response until every event of the
run is on Kafka (the relay marks a row sent after Kafka acks).

A stack of its own, so earlier runs change nothing and the dev stack's mailbox stays clean; the
services start with this environment, so `REGISTRATION_WORKERS=2` measures two processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
import stack  # noqa: E402

STACK = "registration-bench"

CONCURRENCY = 200  # requests in flight
# aiohttp, not httpx: at 200 connections httpx itself tops out near 60 requests/s on this machine.


async def post(client: aiohttp.ClientSession, path: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    async with client.post(path, json=body, headers=headers) as response:
        return response.status, await response.json()


async def new_sessions(client: aiohttp.ClientSession, token: str, count: int, capacity: int) -> list[str]:
    admin = {"Authorization": f"Bearer {token}"}
    titles = {f"{field}_{lang}": "Bench" for field in ("title", "description") for lang in ("fr", "nl", "en")}
    status, workshop = await post(client, "/admin/workshops", {"topic": "seo", **titles, "duration_minutes": 60}, admin)
    assert status == 201, workshop
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=400 + uuid.uuid4().int % 1000)
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


async def register_all(
    client: aiohttp.ClientSession, session_ids: list[str], total: int
) -> tuple[list[float], list[tuple[int, dict]], float]:
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []

    async def one(n: int) -> tuple[int, dict]:
        async with gate:
            started = time.perf_counter()
            outcome = await post(
                client,
                f"/sessions/{session_ids[n % len(session_ids)]}/registrations",
                {"name": "Bench", "email": f"bench-{uuid.uuid4().hex}@example.be", "language": "en"},
            )
            latencies.append(time.perf_counter() - started)
            return outcome

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(n) for n in range(total)))
    return latencies, outcomes, time.perf_counter() - started


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


@contextlib.contextmanager
def downstream_paused():
    """Stop ticketing and notifications (our own stack's processes) for a run; they catch up after."""
    services = stack.load_state(STACK)["services"]
    pids = [
        services[name]["pid"]
        for name in ("ticketing", "notifications")
        if stack.is_running(services[name]["pid"], stack.service_marker(name))
    ]
    for pid in pids:
        stack.signal_process(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            stack.signal_process(pid, signal.SIGCONT)


async def scenario(name: str, setup: str, env: dict, sessions: int, capacity: int, total: int) -> list[str]:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(env["REGISTRATION_URL"], connector=connector, timeout=timeout) as client:
        session_ids = await new_sessions(client, env["REGISTRATION_ADMIN_TOKEN"], sessions, capacity)
        with downstream_paused() if setup == ALONE else contextlib.nullcontext():
            latencies, outcomes, elapsed = await register_all(client, session_ids, total)
    lag = await outbox_lag(env["REGISTRATION_DATABASE_URL"])
    statuses = [body.get("status") if status == 201 else str(status) for status, body in outcomes]
    confirmed = statuses.count("confirmed")
    overbooked = "no" if confirmed <= sessions * capacity else "YES"
    return [
        name,
        setup,
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


WHOLE, ALONE = "whole system", "registration alone"


def fresh_stack() -> dict[str, str]:
    stack.down(STACK)
    shutil.rmtree(stack.stack_dir(STACK), ignore_errors=True)
    shutil.rmtree(stack.postgres_root(STACK), ignore_errors=True)
    state = stack.load_state(STACK)
    env = stack.start_infra(STACK, state)
    return {**env, **stack.start_services(STACK, state, env)}


async def main() -> None:
    env = fresh_stack()
    try:
        rows = await all_scenarios(env)
    finally:
        stack.down(STACK)  # or ticketing and notifications would go on catching up in the background
    print_table(rows)


async def all_scenarios(env: dict[str, str]) -> list[list[str]]:
    return [
        await scenario(name, setup, env, sessions=sessions, capacity=capacity, total=total)
        for setup in (WHOLE, ALONE)  # paused consumers catch up afterwards, so the whole system goes first
        for name, sessions, capacity, total in (
            ("one 25-seat session", 1, 25, 2_000),
            ("100 sessions x 100 seats", 100, 100, 10_000),
        )
    ]


def print_table(rows: list[list[str]]) -> None:
    header = [
        "scenario",
        "setup",
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
    uvloop.run(main())  # the client shares the cores it measures: keep it light
