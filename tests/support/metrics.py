"""Reading a service's /metrics in tests."""

from __future__ import annotations

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


async def families(base_url: str) -> list[Metric]:
    """Every metric the service declares, with its samples (a labelled one may have none yet)."""
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base_url}/metrics", timeout=10)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return list(text_string_to_metric_families(response.text))


async def scrape(base_url: str) -> list[Sample]:
    return [s for family in await families(base_url) for s in family.samples]


def matching(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    """The samples of `name` whose labels include `labels`."""
    return [s for s in samples if s.name == name and labels.items() <= s.labels.items()]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the matching samples (0 when there are none)."""
    return sum(s.value for s in matching(samples, name, **labels))
