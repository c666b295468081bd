"""Wires the registration service: settings, runtime, routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from atelier_platform.asyncapi import declare_publishers
from atelier_platform.http import install_common
from atelier_platform.runtime import create_broker, open_runtime
from atelier_schemas.topics import REGISTRATION_EVENTS
from fastapi import FastAPI

from .config import Settings
from .http import router


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    broker = create_broker(settings.kafka_bootstrap_servers)
    declare_publishers(broker, REGISTRATION_EVENTS)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            broker=broker,
        ) as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(title="Atelier registration", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.broker = broker
    app.include_router(router)
    install_common(app)
    return app
