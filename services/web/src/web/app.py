"""Wires the participant pages: settings, the two API clients, routes, static files."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from atelier_platform.http import add_correlation_id
from atelier_platform.input_rules import install_input_rules
from atelier_platform.metrics import serve_metrics
from atelier_platform.telemetry import FASTAPI_NATIVE_OFF
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import pages
from .api import Services, Unavailable
from .config import Settings

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Services(settings.registration_url, settings.ticketing_url)
        try:
            yield
        finally:
            await app.state.services.close()

    # Pages, not an API: no OpenAPI page of its own.
    app = FastAPI(
        title="Atelier participant pages",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        telemetry=FASTAPI_NATIVE_OFF,
    )
    app.state.settings = settings
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(Unavailable, pages.unavailable)
    add_correlation_id(app)
    install_input_rules(app)
    serve_metrics(app)  # HTTP request histograms, as every service

    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
