"""`python -m <service>`: migrate, then serve HTTP and Kafka in one process."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI

from . import logs
from .db import migrate
from .settings import ServiceSettings


def run_service(
    name: str,
    settings: ServiceSettings,
    database_url: str,
    migrations: Path,
    create_app: Callable[[], FastAPI],
    port: int,
) -> None:
    logs.configure(name, settings.log_level)
    log = structlog.get_logger(name)
    command = sys.argv[1] if len(sys.argv) > 1 else "serve"
    applied = migrate(database_url, migrations)
    log.info("migrations applied", count=applied)
    if command == "migrate":
        return
    uvicorn.run(create_app(), host=settings.host, port=port, log_config=None, access_log=False)
