"""A service process starts and serves while Kafka is unreachable, then publishes what it kept."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from datetime import date
from decimal import Decimal

import httpx
import pytest
from atelier_devkit.databases import fresh_database
from atelier_devkit.kafka import payload, wait_for_records
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_platform import outbox
from atelier_platform.db import create_pool, migrate
from atelier_platform.runtime import SHUTDOWN_GRACE
from atelier_schemas import TicketIssued
from atelier_schemas.topics import TICKETING_EVENTS
from support.tcp_proxy import TcpProxy
from ticketing.config import MIGRATIONS


@pytest.fixture
async def database_url(infra):
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "outage") as url:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        yield url


async def get(url: str) -> httpx.Response | None:
    try:
        async with httpx.AsyncClient() as client:
            return await client.get(url, timeout=2)
    except httpx.HTTPError:
        return None


async def test_a_service_started_without_kafka_serves_http_then_publishes_once_kafka_answers(
    infra, database_url, tmp_path
):
    kafka = TcpProxy(infra["KAFKA_BOOTSTRAP_SERVERS"])  # closed for now: Kafka is "down"
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "ticketing.log"
    env = {
        **os.environ,
        **infra,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.address,
        "TICKETING_DATABASE_URL": database_url,
        "TICKETING_PORT": url.rsplit(":", 1)[1],
    }
    with log.open("w") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ticketing", env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    try:

        async def serving() -> bool:
            response = await get(f"{url}/healthz")
            return response is not None and response.status_code == 200

        assert await eventually(serving, timeout=60), log.read_text()[-3000:]
        readyz = await get(f"{url}/readyz")
        assert readyz.status_code == 200 and readyz.json()["kafka"] == "connecting"

        registration_id = uuid.uuid4()
        pool = await create_pool(database_url)
        try:
            async with pool.acquire() as conn, conn.transaction():  # accepted while Kafka is away
                await outbox.append(conn, issued(registration_id), source="/tests")
        finally:
            await pool.close()
        await asyncio.sleep(2)  # the relay tries, and fails, meanwhile

        await kafka.open()
        records = await wait_for_records(
            infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, lambda r: r.key == str(registration_id).encode()
        )
        assert [payload(r)["code"] for r in records] == ["KEPT-1"]

        async def kafka_ok() -> bool:
            response = await get(f"{url}/readyz")
            return response is not None and response.json().get("kafka") == "ok"

        assert await eventually(kafka_ok, timeout=30)
        assert process.returncode is None

        process.send_signal(signal.SIGTERM)
        started = asyncio.get_running_loop().time()
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
        assert await asyncio.wait_for(process.wait(), SHUTDOWN_GRACE + 5) == -signal.SIGTERM
        assert asyncio.get_running_loop().time() - started < SHUTDOWN_GRACE
        assert "Application shutdown complete." in log.read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await kafka.close()


def issued(registration_id: uuid.UUID) -> TicketIssued:
    return TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=registration_id,
        code="KEPT-1",
        valid_on=date(2027, 1, 12),
        origin_station_id="008821006",
        price_eur=Decimal("9.60"),
    )
