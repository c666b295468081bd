"""A real Prometheus (Debian's package) on loopback, scraping given services, and instant queries.

Used by the smoke run of the Kubernetes overlay and by the test suite; the server runs only as
long as the `running` block, storing into a folder of the caller's.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from atelier_devkit.stack.processes import free_port

ALERTS = Path(__file__).resolve().parent / "alerts.yml"


@contextlib.contextmanager
def running(services: dict[str, str], workdir: Path) -> Iterator[str]:
    """Prometheus scraping each service's /metrics every second as the job named after it; its URL."""
    if shutil.which("prometheus") is None:
        raise RuntimeError("prometheus is missing: `make prometheus` installs it")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": name, "static_configs": [{"targets": [urlsplit(url).netloc]}]}
            for name, url in services.items()
        ],
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    address = f"127.0.0.1:{free_port()}"
    with (workdir / "prometheus.log").open("w") as log:
        process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={address}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            yield f"http://{address}"
        finally:
            process.terminate()
            process.wait(timeout=20)


async def query(prometheus: str, promql: str) -> dict[str, float]:
    """Instant query; the value of each series by its job ({} while the server is still starting)."""
    async with httpx.AsyncClient() as client:
        try:
            response = await client.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5)
        except httpx.TransportError:  # not listening yet
            return {}
    if response.status_code == 503:  # "Service Unavailable" until its storage is open
        return {}
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in response.json()["data"]["result"]}
