"""The services and the participant pages as real processes, on free ports, for the whole e2e session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from support.otlp import TraceReceiver
from support.processes import running

SERVICES = ("registration", "ticketing", "notifications", "web")
# Two registration processes, as deployed for throughput: their batches meet in one database.
EXTRA_ENV = {"registration": {"REGISTRATION_WORKERS": "2"}}


@pytest.fixture(scope="session")
def trace_receiver() -> Iterator[TraceReceiver]:
    """Where the services export their spans."""
    with TraceReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each service writes its log, `<name>.log`."""
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="session")
def services(infra: dict[str, str], trace_receiver: TraceReceiver, service_logs: Path) -> Iterator[dict[str, str]]:
    """Base URLs of the running services, tracing to `trace_receiver`; registration's links point at the web pages."""
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": trace_receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with running(SERVICES, {**infra, **tracing}, service_logs, EXTRA_ENV) as urls:
        yield urls


@pytest.fixture
async def ticketing_db(infra: dict[str, str]):
    conn = await asyncpg.connect(infra["TICKETING_DATABASE_URL"])
    yield conn
    await conn.close()


@pytest.fixture
async def registration_db(infra: dict[str, str]):
    conn = await asyncpg.connect(infra["REGISTRATION_DATABASE_URL"])
    yield conn
    await conn.close()


@pytest.fixture
async def notifications_db(infra: dict[str, str]):
    conn = await asyncpg.connect(infra["NOTIFICATIONS_DATABASE_URL"])
    yield conn
    await conn.close()
