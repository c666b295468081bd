"""`python -m <service> [serve|migrate|<command>]`: serve HTTP and Kafka in one process, or migrate, or a command.

Where several replicas start at once (Kubernetes), migrations run once as a Job (`migrate`) and
`serve` leaves the schema alone; a single copy (the local stack) sets `<SERVICE>_MIGRATE_ON_START`.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

import structlog
import uvicorn
from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import logs, metrics
from .db import migrate
from .runtime import HTTP_GRACE
from .settings import ServiceSettings

Command = Callable[[list[str]], Coroutine[Any, Any, int]]
S = TypeVar("S", bound=ServiceSettings)
_SERVICE_VARIABLE = "ATELIER_SERVICE"  # tells a worker process which service it is


def worker_app() -> FastAPI:
    """The app of one of several worker processes, logging like the parent (JSON, no local variables)."""
    name = os.environ[_SERVICE_VARIABLE]
    logs.configure(name, os.environ.get("LOG_LEVEL", "INFO"))
    app: FastAPI = importlib.import_module(f"{name}.app").create_app()
    return app


class _Database(BaseSettings):
    """All that `migrate` and the one-off commands read: they need none of the service's other settings."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    database_url: str


def database_url(service: str) -> str:
    """`<SERVICE>_DATABASE_URL`."""
    return _Database(_env_prefix=f"{service.upper()}_").database_url


def run_service(
    name: str,
    settings: Callable[[], S],
    create_app: Callable[[S], FastAPI],
    migrations: Path,
    commands: Mapping[str, Command] | None = None,
) -> None:
    """`python -m <name> [serve|migrate|<command> ARGS]`. `migrate` and the one-off commands migrate
    first; `serve` (the default) only when `<SERVICE>_MIGRATE_ON_START` says so."""
    commands = commands or {}
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("serve", [])
    if command not in {"serve", "migrate", *commands}:
        sys.exit(f"usage: python -m {name} [{'|'.join(['serve', 'migrate', *commands])}]")
    if command == "serve":
        served = settings()
        logs.configure(name, served.log_level)
        if served.migrate_on_start:
            _migrate(name, served.database_url, migrations)
        serve(name, served, lambda: create_app(served))
        return
    logs.configure(name, "WARNING")  # one-off commands print their own output
    _migrate(name, database_url(name), migrations)
    if command in commands:
        sys.exit(asyncio.run(commands[command](args)))


def _migrate(name: str, url: str, migrations: Path) -> None:
    applied = migrate(url, migrations)
    structlog.get_logger(name).info("migrations applied", count=applied)


def serve(name: str, settings: ServiceSettings, create_app: Callable[[], FastAPI]) -> None:
    """HTTP and Kafka in this process, or in `settings.workers` processes that each build the app."""
    if settings.workers > 1:  # each worker builds its own app from the environment
        metrics.share_between_workers()
        os.environ[_SERVICE_VARIABLE] = name
        uvicorn.run(
            "atelier_platform.serve:worker_app",
            factory=True,
            workers=settings.workers,
            **_uvicorn_options(settings.host, settings.port),
        )
    else:
        uvicorn.run(create_app(), **_uvicorn_options(settings.host, settings.port))


def serve_pages(app: FastAPI, host: str, port: int) -> None:
    """An app with no database nor Kafka (the participant pages), served like the services."""
    uvicorn.run(app, **_uvicorn_options(host, port))


def _uvicorn_options(host: str, port: int) -> dict[str, Any]:
    # No access log: a request's address may name a registration, and logs carry no personal data.
    return {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,  # the client address follows one rule, TRUSTED_PROXIES (atelier_platform.ratelimit)
        "timeout_graceful_shutdown": HTTP_GRACE,
    }
