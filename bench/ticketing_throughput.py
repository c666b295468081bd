"""How many vouchers per second ticketing's consumer issues on real Kafka and Postgres.

Starts ticketing as a real process, publishes N RegistrationConfirmed events (each asking for a
voucher) to registration.events at once, and times until N vouchers exist in ticketing's
database and until their N TicketIssued events have left the outbox.

    .venv/bin/python bench/ticketing_throughput.py [N ...]     (default: 500 2000)

Uses the servers named by KAFKA_BOOTSTRAP_SERVERS, TICKETING_DATABASE_URL, TICKETING_SIGNING_KEY
and TICKETING_CONDUCTOR_TOKEN when all are set; otherwise its own `bench` stack (`make down` stops it).
Not a test: it asserts nothing, and its figures depend on the machine.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from atelier_devkit.registration_events import registration_events
from atelier_devkit.stack.infra import ensure_infra
from atelier_devkit.stack.processes import free_port, wait_until
from atelier_devkit.stack.services import service_answers
from atelier_schemas.topics import REGISTRATION_EVENTS
from stacks import send_all

NEEDED = ("KAFKA_BOOTSTRAP_SERVERS", "TICKETING_DATABASE_URL", "TICKETING_SIGNING_KEY", "TICKETING_CONDUCTOR_TOKEN")
WARM_UP = 20


def servers() -> dict[str, str]:
    if all(os.environ.get(name) for name in NEEDED):
        return {name: os.environ[name] for name in NEEDED}
    return ensure_infra("bench")


def start_ticketing(env: dict[str, str], log: Path) -> subprocess.Popen:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketing"],
        env={**os.environ, **env, "TICKETING_PORT": str(port), "LOG_LEVEL": "WARNING"},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    ready = wait_until(lambda: process.poll() is None and service_answers(port), timeout=90)
    if not ready:
        process.terminate()
        raise SystemExit(f"ticketing did not get ready; see {log}")
    return process


async def issue(bootstrap: str, pool: asyncpg.Pool, count: int) -> tuple[float, float]:
    """Publish `count` confirmations; seconds until all vouchers exist, and until all were announced."""
    stories = [registration_events()["confirmed"] for _ in range(count)]
    ids = [story.registration_id for story in stories]
    keys = [str(i) for i in ids]
    started = time.monotonic()
    await send_all(bootstrap, REGISTRATION_EVENTS, stories)
    vouchers_at = announced_at = None
    while announced_at is None:
        await asyncio.sleep(0.05)
        if (
            vouchers_at is None
            and await pool.fetchval("SELECT count(*) FROM vouchers WHERE registration_id = ANY($1::uuid[])", ids)
            == count
        ):
            vouchers_at = time.monotonic() - started
        if (
            vouchers_at is not None
            and await pool.fetchval(
                "SELECT count(*) FROM outbox WHERE key = ANY($1::text[]) AND sent_at IS NOT NULL", keys
            )
            == count
        ):
            announced_at = time.monotonic() - started
    return vouchers_at, announced_at


async def measure(env: dict[str, str], sizes: list[int]) -> list[tuple[int, float, float]]:
    pool = await asyncpg.create_pool(env["TICKETING_DATABASE_URL"], min_size=1, max_size=2)
    try:
        await issue(env["KAFKA_BOOTSTRAP_SERVERS"], pool, WARM_UP)  # partitions assigned, caches warm
        return [(n, *await issue(env["KAFKA_BOOTSTRAP_SERVERS"], pool, n)) for n in sizes]
    finally:
        await pool.close()


def main() -> None:
    sizes = [int(arg) for arg in sys.argv[1:]] or [500, 2000]
    env = servers()
    log = Path(tempfile.mkdtemp(prefix="ticketing-bench-")) / "ticketing.log"
    process = start_ticketing(env, log)
    try:
        rows = asyncio.run(measure(env, sizes))
    finally:
        process.terminate()
        process.wait(timeout=30)
    print(f"ticketing consumer, one process, {os.cpu_count()} cores, Kafka and Postgres on this machine")
    print(f"{'events':>8} {'all vouchers (s)':>17} {'vouchers/s':>11} {'all TicketIssued out (s)':>25}")
    for count, vouchers_at, announced_at in rows:
        print(f"{count:>8} {vouchers_at:>17.2f} {count / vouchers_at:>11.0f} {announced_at:>25.2f}")


if __name__ == "__main__":
    main()
