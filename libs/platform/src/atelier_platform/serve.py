"""`python -m <service> [serve|migrate|<command>]`: serve HTTP and Kafka in one process, or migrate, or a command.

Where several replicas start at once (Kubernetes), migrations run once as a Job (`migrate`) and
`serve` leaves the schema alone; a single copy (the local stack) sets `<SERVICE>_MIGRATE_ON_START`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI

from . import logs, metrics
from .db import migrate
from .runtime import HTTP_GRACE
from .settings import ServiceSettings

Command = Callable[[list[str]], Awaitable[int]]
_SERVICE_VARIABLE = "ATELIER_SERVICE"  # tells a worker process which service it is


def worker_app() -> FastAPI:
    """The app of one of several worker processes, logging like the parent (JSON, no local variables)."""
    name = os.environ[_SERVICE_VARIABLE]
    logs.configure(name, ServiceSettings().log_level)
    return importlib.import_module(f"{name}.app").create_app()


def run_service(
    name: str,
    settings: ServiceSettings,
    database_url: str,
    migrations: Path,
    create_app: Callable[[], FastAPI],
    port: int,
    commands: Mapping[str, Command] | None = None,
) -> None:
    """`migrate` and the one-off commands migrate first; `serve` (the default) only when told to."""
    commands = commands or {}
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("serve", [])
    if command not in {"serve", "migrate", *commands}:
        sys.exit(f"usage: python -m {name} [{'|'.join(['serve', 'migrate', *commands])}]")
    # One-off commands print their own output; keep their logs to warnings.
    logs.configure(name, settings.log_level if command == "serve" else "WARNING")
    if command != "serve" or settings.migrate_on_start:
        applied = migrate(database_url, migrations)
        structlog.get_logger(name).info("migrations applied", count=applied)
    if command == "migrate":
        return
    if command in commands:
        sys.exit(asyncio.run(commands[command](args)))
    served = {
        "host": settings.host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,  # the client address follows one rule, TRUSTED_PROXIES (atelier_platform.ratelimit)
        "timeout_graceful_shutdown": HTTP_GRACE,
    }
    if settings.workers > 1:  # each worker builds its own app from the environment
        metrics.share_between_workers()
        os.environ[_SERVICE_VARIABLE] = name
        uvicorn.run("atelier_platform.serve:worker_app", factory=True, workers=settings.workers, **served)
    else:
        uvicorn.run(create_app(), **served)
