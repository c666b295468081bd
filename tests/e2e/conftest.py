"""The three services as real processes, on free ports, for the whole e2e session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

SERVICES = ("registration", "ticketing", "notifications")
# Two registration processes, as deployed for throughput: their batches meet in one database.
EXTRA_ENV = {"registration": {"REGISTRATION_WORKERS": "2"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200 and json.load(response).get("kafka") == "ok":  # consuming, too
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready; log tail:\n" + "\n".join(log.read_text().splitlines()[-30:]))


@pytest.fixture(scope="session")
def services(infra: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Base URLs of the running services."""
    logs = tmp_path_factory.mktemp("service-logs")
    env = {**os.environ, **infra, "LOG_LEVEL": "INFO"}
    urls, running = {}, []
    for name in SERVICES:
        port = free_port()
        env[f"{name.upper()}_PORT"] = str(port)
        log = logs / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", name],
            env={**env, **EXTRA_ENV.get(name, {})},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        running.append((process, log))
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        for (process, log), name in zip(running, SERVICES, strict=True):
            wait_ready(urls[name], process, log)
        yield urls
    finally:
        for process, _ in running:
            process.send_signal(signal.SIGTERM)
        for process, _ in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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
