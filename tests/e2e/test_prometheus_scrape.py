"""A real Prometheus (Debian's package) scrapes the three services and answers queries on their series."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from atelier_devkit.waiting import eventually

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "observability"))
from prometheus import query, running  # noqa: E402

SERVICES = ("registration", "ticketing", "notifications")
SCRAPED = (*SERVICES, "web")  # the participant pages: HTTP figures only

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


@pytest.fixture
def prometheus(services: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with running({name: services[name] for name in SCRAPED}, tmp_path) as url:
        yield url


async def test_prometheus_scrapes_every_service_and_queries_their_series(prometheus, services):
    async def all_scraped() -> bool:
        return await query(prometheus, "up") == dict.fromkeys(SCRAPED, 1.0)

    assert await eventually(all_scraped, timeout=60)
    assert await query(prometheus, "min by (job) (atelier_ready)") == dict.fromkeys(SERVICES, 1.0)  # every check
    assert set(await query(prometheus, "max by (job) (atelier_outbox_oldest_unsent_age_seconds)")) == set(SERVICES)
    lag_jobs = await query(prometheus, "count by (job) (atelier_consumer_lag)")
    assert set(lag_jobs) == set(SERVICES) and all(count >= 6 for count in lag_jobs.values())

    async def scrapes_counted() -> bool:  # a scrape is counted once answered, so seen from the next one on
        promql = 'sum by (job) (atelier_http_request_duration_seconds_count{route="/metrics"})'
        return set(await query(prometheus, promql)) == set(SCRAPED)

    assert await eventually(scrapes_counted, timeout=15)

    async def rules_healthy() -> bool:
        async with httpx.AsyncClient() as client:
            groups = (await client.get(f"{prometheus}/api/v1/rules", timeout=5)).json()["data"]["groups"]
        return [(r["name"], r["health"]) for g in groups for r in g["rules"]] == [(n, "ok") for n in ALERT_NAMES]

    assert await eventually(rules_healthy, timeout=10)
