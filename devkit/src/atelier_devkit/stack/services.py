"""The services as processes of the stack (`python -m <service>`), restarted when their code changes."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import urllib.request
from collections.abc import Collection

from .processes import choose_port, is_running, reuse_or_stop, spawn, stop_recorded, wait_ready
from .state import HOST, REPO, State, log_path, save_state

SERVICES = ("registration", "ticketing", "notifications", "web")  # web: the participant pages, no database
SOURCE_SUFFIXES = {".py", ".sql", ".csv", ".j2", ".html", ".txt", ".js", ".css"}

# No proxies: readiness checks must never leave loopback.
LOOPBACK_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def service_marker(service: str) -> str:
    return f"-m {service}"


def service_answers(port: int) -> bool:
    """Ready, and connected to Kafka (a service serves without it, but the stack is not up until it is).
    The web pages use no Kafka: their /readyz has no `kafka` field."""
    try:
        with LOOPBACK_HTTP.open(f"http://{HOST}:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200 and json.load(response).get("kafka", "ok") == "ok")
    except (OSError, ValueError):
        return False


def service_healthy(service: str, record: State) -> bool:
    return is_running(record.get("pid"), service_marker(service)) and service_answers(record["port"])


def code_version() -> str:
    """A fingerprint of the Python sources: a service started from older code is restarted."""
    digest = hashlib.sha1()
    for folder in ("services", "libs", "schemas"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and ".venv" not in path.parts:
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def service_urls(services: State) -> dict[str, str]:
    return {f"{svc.upper()}_URL": f"http://{HOST}:{services[svc]['port']}" for svc in SERVICES}


def reusable(service: str, record: State, version: str, workers: str, ready_timeout: float) -> bool:
    """Whether the recorded process of `service` can serve on. One from other code or settings, or that
    stays unready, is stopped first: its record is replaced only once it is gone."""
    pid, marker = record.get("pid"), service_marker(service)
    if is_running(pid, marker) and (record.get("code_version"), record.get("workers", "1")) != (version, workers):
        print(f"restarting {service}: its code or {service.upper()}_WORKERS changed")
        stop_recorded(service, pid, marker)
        return False
    return reuse_or_stop(service, pid, marker, lambda: service_answers(record["port"]), ready_timeout)


def start_services(
    name: str, state: State, infra: dict[str, str], ready_timeout: float = 60.0, only: Collection[str] = SERVICES
) -> dict[str, str]:
    """Start the services (of `only`) that are not running and ready; returns their URL variables."""
    services = state.setdefault("services", {})
    version = code_version()
    to_start = []
    for service in [service for service in SERVICES if service in only]:
        record = services.get(service, {})
        workers = os.environ.get(f"{service.upper()}_WORKERS", "1")
        if reusable(service, record, version, workers, ready_timeout):
            print(f"reusing {service} on {HOST}:{record['port']} (pid {record['pid']})")
            continue
        services[service] = {
            "port": choose_port(name, service, record.get("port")),
            "code_version": version,
            "workers": workers,
        }
        to_start.append(service)
    urls = service_urls(services)
    ports = {f"{svc.upper()}_PORT": str(services[svc]["port"]) for svc in SERVICES}
    # The email links point at the participant pages this stack really serves (an explicit value wins).
    public = {"REGISTRATION_PUBLIC_URL": os.environ.get("REGISTRATION_PUBLIC_URL") or urls["WEB_URL"]}
    env = {**os.environ, **infra, **urls, **ports, **public}
    for service in to_start:
        services[service]["pid"] = spawn([sys.executable, "-m", service], log_path(name, service), env)
        save_state(name, state)  # recorded the moment it exists, so `down` finds it whatever happens next
    started = time.monotonic()  # they start side by side, so each time counts from here
    for service in to_start:
        record = services[service]
        wait_ready(service, record["pid"], lambda port=record["port"]: service_answers(port), log_path(name, service))
        print(f"{service} ready in {time.monotonic() - started:.1f} s on {HOST}:{record['port']}")
    return {**urls, **public}
