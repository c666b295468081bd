"""The services as real processes on free ports, for the e2e and browser tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from atelier_devkit.stack.processes import free_port


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                # Consuming, too (a service answers 200 with Kafka "degraded"); the web pages have no Kafka.
                if response.status == 200 and json.load(response).get("kafka", "ok") == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} not ready; log tail:\n" + "\n".join(log.read_text().splitlines()[-30:]))


@contextlib.contextmanager
def running(
    names: tuple[str, ...], infra: Mapping[str, str], logs: Path, extra_env: Mapping[str, Mapping[str, str]]
) -> Iterator[dict[str, str]]:
    """Start `names` side by side (each `python -m <name>`), wait until each is ready; yield their base URLs.

    Every process sees every other's `<NAME>_URL`; the registration links point at the web pages when they run."""
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in names}
    env = {**os.environ, **infra, "LOG_LEVEL": "INFO"}
    for name, url in urls.items():
        env[f"{name.upper()}_PORT"] = url.rsplit(":", 1)[1]
        env[f"{name.upper()}_URL"] = url
    if "web" in urls:
        env["REGISTRATION_PUBLIC_URL"] = urls["web"]
    started = []
    try:
        for name in names:
            log = logs / f"{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", name],
                env={**env, **extra_env.get(name, {})},
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            started.append((name, process, log))
        for name, process, log in started:
            wait_ready(urls[name], process, log)
        yield urls
    finally:
        for _, process, _ in started:
            process.send_signal(signal.SIGTERM)
        for _, process, _ in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
