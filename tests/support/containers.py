"""The service images, started through testcontainers: on Docker, or on podman's Docker-compatible socket."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "images"))
import build  # noqa: E402

SOCKET = ROOT / ".local" / "images" / "podman.sock"


@contextlib.contextmanager
def docker_api(engine: build.Engine) -> Iterator[None]:
    """DOCKER_HOST for testcontainers: Docker's own, or a `podman system service` for the duration.

    Ryuk (testcontainers' reaper container) is off: the fixtures stop what they start, and its
    image could not be pulled here anyway.
    """
    saved = {name: os.environ.get(name) for name in ("DOCKER_HOST", "TESTCONTAINERS_RYUK_DISABLED")}
    os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
    service = None
    if engine.is_podman:
        SOCKET.unlink(missing_ok=True)
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{SOCKET}"],
            env=engine.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while not SOCKET.exists() and time.monotonic() < deadline and service.poll() is None:
            time.sleep(0.1)
        os.environ["DOCKER_HOST"] = f"unix://{SOCKET}"
    try:
        yield
    finally:
        if service is not None:
            service.terminate()
            service.wait(timeout=30)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
