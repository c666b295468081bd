"""Health means something: a critical task that keeps failing fails /healthz; Kafka down only degrades."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from atelier_devkit.databases import fresh_database
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_platform.db import create_pool, migrate
from atelier_platform.http import add_health_routes
from atelier_platform.runtime import create_broker, open_runtime
from atelier_platform.supervise import Supervisor
from fastapi import FastAPI
from ticketing.config import MIGRATIONS


@pytest.fixture
async def database_url(infra):
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "health") as url:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        yield url


async def test_healthz_answers_503_once_a_critical_task_keeps_failing(infra, database_url):
    trouble, attempts = asyncio.Event(), []

    async def decide(runtime) -> None:
        await trouble.wait()
        attempts.append(1)
        raise RuntimeError("a bug that comes back after every restart")

    app = FastAPI()
    add_health_routes(app)
    async with open_runtime(
        database_url=database_url,
        bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"],
        broker=create_broker(infra["KAFKA_BOOTSTRAP_SERVERS"]),
        workers=[decide],
        supervisor=Supervisor(first_backoff=0.05, max_backoff=0.2, max_failures=3, window=60),
    ) as runtime:
        app.state.runtime = runtime
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service") as client:
            assert (await client.get("/healthz")).status_code == 200
            trouble.set()

            async def unhealthy() -> bool:
                return (await client.get("/healthz")).status_code == 503

            assert await eventually(unhealthy, timeout=10, interval=0.05)
            assert (await client.get("/healthz")).json() == {"status": "failing", "tasks": ["decide"]}
            readyz = await client.get("/readyz")
            assert readyz.status_code == 503 and readyz.json()["tasks"] == ["decide"]
            assert runtime.supervisor.restarts["decide"] >= 2 and len(attempts) >= 3


async def test_a_kafka_outage_is_reported_as_degraded_while_the_service_stays_ready(infra, database_url):
    nowhere = f"127.0.0.1:{free_port()}"
    app = FastAPI()
    add_health_routes(app)
    async with open_runtime(database_url=database_url, bootstrap_servers=nowhere, broker=create_broker(nowhere)) as rt:
        app.state.runtime = rt
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service") as client:
            healthz, readyz = await client.get("/healthz"), await client.get("/readyz")
    assert healthz.status_code == 200
    assert readyz.status_code == 200
    assert readyz.json() == {"status": "ready", "database": "ok", "kafka": "connecting"}


async def test_a_pool_connection_gives_up_statements_and_idle_transactions_in_bounded_time(database_url):
    pool = await create_pool(database_url)
    try:
        settings = await pool.fetchrow(
            "SELECT current_setting('statement_timeout') AS statement,"
            " current_setting('idle_in_transaction_session_timeout') AS idle"
        )
    finally:
        await pool.close()
    assert (settings["statement"], settings["idle"]) == ("25s", "1min")
