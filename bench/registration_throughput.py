"""Registration throughput on a fresh stack of its own, stopped afterwards. Prints a table.

1. 2,000 concurrent requests for one 25-seat session: no overbooking, 1,975 waitlisted.
2. 10,000 registrations spread over 100 sessions.
Each twice: with the whole system on this machine's cores (ticketing and notifications consuming
and sending mail meanwhile), then with registration alone — its Postgres, Kafka and the load client
still on the same cores, ticketing and notifications paused (SIGSTOP) for the run and resumed
after, as when each service has its own container. For each: requests/s, latency percentiles,
confirmed count, the outbox lag — the time from the last response until every event of the
run is on Kafka (the relay marks a row sent after Kafka acks) — and the CPU registration and
Postgres spent per request, from the first request until the lag is over.

A stack of its own, so earlier runs change nothing and the dev stack's mailbox stays clean; the
services start with this environment, so `REGISTRATION_WORKERS=2` measures two processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid

import aiohttp
import asyncpg
import cpu
import uvloop
from atelier_devkit.stack.cli import down
from atelier_devkit.stack.processes import is_running, signal_process
from atelier_devkit.stack.services import service_marker
from atelier_devkit.stack.state import load_state
from measures import percentile
from stacks import CONCURRENCY, connector, fresh_stack, new_sessions, post, print_table

STACK = "registration-bench"


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


@contextlib.contextmanager
def downstream_paused():
    """Stop ticketing and notifications (our own stack's processes) for a run; they catch up after."""
    services = load_state(STACK)["services"]
    pids = [
        services[name]["pid"]
        for name in ("ticketing", "notifications")
        if is_running(services[name]["pid"], service_marker(name))
    ]
    for pid in pids:
        signal_process(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            signal_process(pid, signal.SIGCONT)


def measured_processes() -> dict[str, int]:
    """Registration (its workers included) and Postgres (every backend), whose CPU per request is the
    figure to compare across runs: the rate follows the machine's load, the CPU per request much less."""
    state = load_state(STACK)
    return {"registration": state["services"]["registration"]["pid"], "postgres": state["postgres"]["pid"]}


async def scenario(name: str, setup: str, env: dict, sessions: int, capacity: int, total: int) -> list[str]:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(env["REGISTRATION_URL"], connector=connector(), timeout=timeout) as client:
        session_ids = await new_sessions(client, env["REGISTRATION_ADMIN_TOKEN"], sessions, capacity)
        cpu_before = cpu.snapshot(measured_processes())
        with downstream_paused() if setup == ALONE else contextlib.nullcontext():
            latencies, outcomes, elapsed = await register_all(client, session_ids, total)
    lag = await outbox_lag(env["REGISTRATION_DATABASE_URL"])
    cpu_after = cpu.snapshot(measured_processes())
    cpu_ms = {process: (cpu_after[process] - cpu_before[process]) * 1000 / total for process in cpu_after}
    statuses = [body.get("status") if status == 201 else str(status) for status, body in outcomes]
    confirmed = statuses.count("confirmed")
    overbooked = "no" if confirmed <= sessions * capacity else "YES"
    return [
        name,
        setup,
        f"{total}",
        f"{total / elapsed:.0f}",
        f"{percentile(latencies, 50) * 1000:.0f}",
        f"{percentile(latencies, 95) * 1000:.0f}",
        f"{percentile(latencies, 99) * 1000:.0f}",
        f"{confirmed} / {sessions * capacity}",
        overbooked,
        f"{statuses.count('waitlisted')}",
        f"{sum(1 for s in statuses if s not in ('confirmed', 'waitlisted'))}",
        f"{lag:.2f}",
        f"{cpu_ms['registration']:.2f}",
        f"{cpu_ms['postgres']:.2f}",
    ]


WHOLE, ALONE = "whole system", "registration alone"
HEADER = [
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
    "registration CPU ms/req",
    "Postgres CPU ms/req",
]


async def main() -> None:
    env = fresh_stack(STACK)
    try:
        rows = await all_scenarios(env)
    finally:
        down(STACK)  # or ticketing and notifications would go on catching up in the background
    print_table(HEADER, rows)


async def all_scenarios(env: dict[str, str]) -> list[list[str]]:
    return [
        await scenario(name, setup, env, sessions=sessions, capacity=capacity, total=total)
        for setup in (WHOLE, ALONE)  # paused consumers catch up afterwards, so the whole system goes first
        for name, sessions, capacity, total in (
            ("one 25-seat session", 1, 25, 2_000),
            ("100 sessions x 100 seats", 100, 100, 10_000),
        )
    ]


if __name__ == "__main__":
    uvloop.run(main())  # the client shares the cores it measures: keep it light
