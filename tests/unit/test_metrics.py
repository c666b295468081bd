"""Process metrics: restarts counted per task, HTTP requests labelled with their route template."""

from __future__ import annotations

import asyncio

import httpx
from atelier_platform import logs
from atelier_platform.metrics import HttpMetricsMiddleware
from atelier_platform.supervise import Supervisor
from fastapi import FastAPI
from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_each_restart_of_a_background_task_is_counted_under_its_name(capsys):
    logs.configure("tests")  # the supervisor logs each failure: onto this test's stdout, not an earlier one's
    supervisor, runs, recovered = Supervisor(first_backoff=0.01, max_backoff=0.05), [], asyncio.Event()
    before = sample("atelier_task_restarts_total", task="metrics-flaky")

    async def flaky() -> None:
        runs.append(1)
        if len(runs) <= 2:
            raise ConnectionResetError("the database went away")
        recovered.set()
        await asyncio.Event().wait()

    supervisor.start("metrics-flaky", flaky)
    await asyncio.wait_for(recovered.wait(), 5)
    await supervisor.stop()
    assert sample("atelier_task_restarts_total", task="metrics-flaky") == before + 2


async def test_http_requests_are_labelled_with_the_route_template_never_the_raw_path():
    app = FastAPI()

    @app.get("/metrics-test/vouchers/{code}")
    async def voucher(code: str) -> dict[str, str]:
        return {"code": code}

    app.add_middleware(HttpMetricsMiddleware)
    route = dict(method="GET", route="/metrics-test/vouchers/{code}", status="200")
    unmatched = dict(method="GET", route="unmatched", status="404")
    before = sample("atelier_http_request_duration_seconds_count", **route)
    before_unmatched = sample("atelier_http_request_duration_seconds_count", **unmatched)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/metrics-test/vouchers/AB12")).status_code == 200
        assert (await client.get("/metrics-test/vouchers/CD34")).status_code == 200
        assert (await client.get("/metrics-test/nowhere/EF56")).status_code == 404
    assert sample("atelier_http_request_duration_seconds_count", **route) == before + 2
    assert sample("atelier_http_request_duration_seconds_count", **unmatched) == before_unmatched + 1
    raw = [s for m in REGISTRY.collect() for s in m.samples if "AB12" in s.labels.get("route", "")]
    assert raw == []
