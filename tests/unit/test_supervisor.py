"""The supervisor: a failed background task is logged and restarted; one failing too often is unhealthy."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import structlog
from atelier_platform import logs
from atelier_platform.supervise import Supervisor


def fast(**overrides) -> Supervisor:
    return Supervisor(**{"first_backoff": 0.01, "max_backoff": 0.05, "max_failures": 3, "window": 60, **overrides})


_sleep = asyncio.sleep  # the real one, for tests that watch what the supervisor asks of asyncio.sleep


async def eventually(predicate, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await _sleep(0.01)


async def test_a_task_that_fails_is_restarted_and_its_restarts_counted():
    supervisor, runs, recovered = fast(), [], asyncio.Event()

    async def flaky() -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise ConnectionResetError("the database went away")
        recovered.set()
        await asyncio.Event().wait()  # then runs for ever

    supervisor.start("flaky", flaky)
    await asyncio.wait_for(recovered.wait(), 5)
    assert supervisor.restarts["flaky"] == 2
    assert supervisor.failing() == []
    await supervisor.stop()


@pytest.fixture(autouse=True)
def default_logs():
    """Logs on the stdout of the moment (another test may have configured a captured, now closed one)."""
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


async def test_the_failure_is_logged_with_its_traceback_but_without_local_values(capsys):
    logs.configure("tests")
    supervisor = fast()

    async def leaky() -> None:
        email = "lena.private@example.be"  # noqa: F841  a traceback with locals would print it
        raise RuntimeError("boom")

    supervisor.start("leaky", leaky)
    await eventually(lambda: supervisor.restarts["leaky"] >= 1)
    await supervisor.stop()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    failed = [line for line in lines if line["event"] == "background task failed, restarting"]
    assert failed and failed[0]["task"] == "leaky"
    assert "RuntimeError" in json.dumps(failed[0]) and "leaky" in json.dumps(failed[0]["exception"])
    assert not any("lena.private" in json.dumps(line) for line in lines)


async def test_the_backoff_grows_and_is_capped(monkeypatch):
    # Seconds, not milliseconds: the sleeps are only recorded, and a run counts as a recovery once it
    # outlives the longest backoff, which a starved event loop could otherwise fake.
    supervisor, delays = fast(first_backoff=1.0, max_backoff=8.0, max_failures=100), []

    async def recorded_sleep(delay: float) -> None:  # the waits the supervisor asks for, not wall time
        delays.append(delay)
        await _sleep(0)

    async def broken() -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("atelier_platform.supervise.asyncio.sleep", recorded_sleep)
    supervisor.start("broken", broken)
    await eventually(lambda: len(delays) >= 6)
    await supervisor.stop()
    assert 1.0 * 0.8 <= delays[0] <= 1.0 and 2.0 * 0.8 <= delays[1] <= 2.0  # doubles, less up to 20 % jitter
    assert all(delay <= 8.0 for delay in delays) and delays[5] >= 8.0 * 0.8  # then stays at the cap


async def test_a_critical_task_that_keeps_failing_makes_the_process_unhealthy():
    supervisor = fast()

    async def broken() -> None:
        raise RuntimeError("bug")

    async def chore() -> None:
        raise RuntimeError("also a bug, but not critical")

    supervisor.start("relay", broken)
    supervisor.start("purge", chore, critical=False)
    await eventually(lambda: supervisor.restarts["relay"] >= 3 and supervisor.restarts["purge"] >= 3)
    assert supervisor.failing() == ["relay"]
    await supervisor.stop()


async def test_a_few_failures_far_apart_keep_the_process_healthy():
    supervisor = fast(window=0.2)

    async def rarely_broken() -> None:
        await asyncio.sleep(0.1)
        raise RuntimeError("now and then")

    supervisor.start("relay", rarely_broken)
    await eventually(lambda: supervisor.restarts["relay"] >= 4)
    assert supervisor.failing() == []
    await supervisor.stop()


async def test_a_start_up_step_is_retried_until_it_succeeds_once():
    supervisor, attempts = fast(), []

    async def connect() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("broker not up yet")

    task = supervisor.start("connect", connect, forever=False)
    await asyncio.wait_for(task, 5)
    assert len(attempts) == 3 and supervisor.failing() == []


async def test_a_long_lived_task_that_returns_is_restarted():
    supervisor, runs = fast(), []

    async def returns_early() -> None:
        runs.append(1)
        if len(runs) > 2:
            await asyncio.Event().wait()

    supervisor.start("worker", returns_early)
    await eventually(lambda: len(runs) == 3)
    assert supervisor.restarts["worker"] == 2
    await supervisor.stop()
