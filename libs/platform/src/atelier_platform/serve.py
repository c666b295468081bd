"""`python -m <service> [serve|migrate|<command>]`: migrate, then serve HTTP and Kafka in one process."""

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

from . import logs
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
    """Every command migrates first; `serve` (the default) then runs the service."""
    commands = commands or {}
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("serve", [])
    if command not in {"serve", "migrate", *commands}:
        sys.exit(f"usage: python -m {name} [{'|'.join(['serve', 'migrate', *commands])}]")
    # One-off commands print their own output; keep their logs to warnings.
    logs.configure(name, settings.log_level if command == "serve" else "WARNING")
    applied = migrate(database_url, migrations)
    structlog.get_logger(name).info("migrations applied", count=applied)
    if command == "migrate":
        return
    if command in commands:
        sys.exit(asyncio.run(commands[command](args)))
    if settings.workers > 1:  # each worker builds its own app from the environment
        os.environ[_SERVICE_VARIABLE] = name
        uvicorn.run(
            "atelier_platform.serve:worker_app",
            factory=True,
            workers=settings.workers,
            host=settings.host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=HTTP_GRACE,
        )
    else:
        uvicorn.run(
            create_app(),
            host=settings.host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=HTTP_GRACE,
        )
