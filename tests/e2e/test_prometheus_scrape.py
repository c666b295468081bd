"""A real Prometheus (Debian's package) scrapes the three services and answers queries on their series."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from support.smtp_server import free_port
from support.waiting import eventually

SERVICES = ("registration", "ticketing", "notifications")

ALERT_NAMES = (
    "AtelierOutboxStuck",
    "AtelierConsumerLagHigh",
    "AtelierDeadLetters",
    "AtelierEmailsFailed",
    "AtelierEmailsRetrying",
    "AtelierSmtpServerOut",
    "AtelierNotReady",
    "AtelierTaskRestarting",
    "AtelierOutboxQuarantined",
)
ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "observability" / "alerts.yml"


@pytest.fixture
def prometheus(services: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """Prometheus on loopback, scraping each service every second as the job named after it."""
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus is missing: `make prometheus` installs it")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [urlsplit(services[name]).netloc]}]} for name in SERVICES
        ],
    }
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    address = f"127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={address}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("w"),
    )
    try:
        yield f"http://{address}"
    finally:
        process.terminate()
        process.wait(timeout=20)


async def query(prometheus: str, promql: str) -> dict[str, float]:
    """Instant query; the value of each series by its job."""
    async with httpx.AsyncClient() as client:
        try:
            response = await client.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5)
        except httpx.TransportError:  # not listening yet
            return {}
    if response.status_code == 503:  # still starting: "Service Unavailable" until its storage is open
        return {}
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in response.json()["data"]["result"]}


async def test_prometheus_scrapes_every_service_and_queries_their_series(prometheus, services):
    async def all_scraped() -> bool:
        return await query(prometheus, "up") == dict.fromkeys(SERVICES, 1.0)

    assert await eventually(all_scraped, timeout=60)
    assert await query(prometheus, "min by (job) (atelier_ready)") == dict.fromkeys(SERVICES, 1.0)  # every check
    assert set(await query(prometheus, "max by (job) (atelier_outbox_oldest_unsent_age_seconds)")) == set(SERVICES)
    lag_jobs = await query(prometheus, "count by (job) (atelier_consumer_lag)")
    assert set(lag_jobs) == set(SERVICES) and all(count >= 6 for count in lag_jobs.values())

    scrapes = await query(prometheus, 'sum by (job) (atelier_http_request_duration_seconds_count{route="/metrics"})')
    assert set(scrapes) == set(SERVICES)

    async def rules_healthy() -> bool:
        async with httpx.AsyncClient() as client:
            groups = (await client.get(f"{prometheus}/api/v1/rules", timeout=5)).json()["data"]["groups"]
        return [(r["name"], r["health"]) for g in groups for r in g["rules"]] == [(n, "ok") for n in ALERT_NAMES]

    assert await eventually(rules_healthy, timeout=10)
