"""Wires the ticketing service: what it consumes and publishes, its handlers, routes, signer and purges."""

from __future__ import annotations

from atelier_platform.ratelimit import RateLimit
from atelier_platform.runtime import Runtime
from atelier_platform.service_app import Consumes, create_service_app
from atelier_schemas.topics import CATALOG_EVENTS, REGISTRATION_EVENTS, TICKETING_EVENTS
from fastapi import FastAPI

from . import batches, erasure
from .config import Settings
from .handlers import handlers
from .http import router
from .signing import VoucherSigner


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    def make_signer(runtime: Runtime) -> None:
        app.state.signer = VoucherSigner(settings.signing_seed())  # in the lifespan: settings may be unchecked here

    app = create_service_app(
        "ticketing",
        settings,
        version="0.1.0",
        publishes=[TICKETING_EVENTS],
        consumes=Consumes(
            topics=[REGISTRATION_EVENTS, CATALOG_EVENTS],
            group=settings.consumer_group,
            handlers=lambda: handlers(settings.voucher_price_eur, app.state.signer),
            around_batch=batches.around_batch(),
        ),
        routers=[router],
        purges=erasure.PURGES,
        before_start=make_signer,
    )
    app.state.lookup_limiter = RateLimit(
        settings.lookup_burst,
        settings.lookups_per_minute,
        "too many voucher look-ups from this address; try again later",
    )
    return app
