"""Reading a service's /metrics in tests."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


async def scrape(base_url: str) -> list[Sample]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base_url}/metrics", timeout=10)
    response.raise_for_status()
    assert response.headers["content-type"].startswith("text/plain")
    return [s for family in text_string_to_metric_families(response.text) for s in family.samples]


def matching(samples: list[Sample], name: str, **labels: str) -> list[Sample]:
    """The samples of `name` whose labels include `labels`."""
    return [s for s in samples if s.name == name and labels.items() <= s.labels.items()]


def total(samples: list[Sample], name: str, **labels: str) -> float:
    """The sum of the matching samples (0 when there are none)."""
    return sum(s.value for s in matching(samples, name, **labels))
