"""Wires the ticketing service: settings, runtime, subscribers, routes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from atelier_platform.anonymise import scrub_late_events
from atelier_platform.asyncapi import declare_publishers
from atelier_platform.consumer import EventConsumer
from atelier_platform.docs_assets import serve_docs_offline
from atelier_platform.http import install_common
from atelier_platform.input_rules import install_input_rules
from atelier_platform.ratelimit import RateLimit
from atelier_platform.runtime import Runtime, create_broker, open_runtime
from atelier_platform.subscribe import subscribe
from atelier_schemas.topics import CATALOG_EVENTS, REGISTRATION_EVENTS, TICKETING_EVENTS
from fastapi import FastAPI

from . import erasure
from .config import Settings
from .handlers import handlers
from .http import router
from .signing import VoucherSigner


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    broker = create_broker(settings.kafka_bootstrap_servers)
    declare_publishers(broker, TICKETING_EVENTS)
    app = FastAPI(title="Atelier ticketing", version="0.1.0")
    for topic in (REGISTRATION_EVENTS, CATALOG_EVENTS):
        subscribe(broker, topic, settings.consumer_group, lambda: app.state.consumer, settings.kafka_consumer_batch_max)

    def start_consumer(runtime: Runtime) -> None:
        app.state.consumer = EventConsumer(
            group=settings.consumer_group,
            pool=runtime.pool,
            producer=runtime.producer,
            handlers=scrub_late_events(handlers(settings.voucher_price_eur, app.state.signer), erasure.scrub),
            after_commit=runtime.relay.wake,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.signer = VoucherSigner(settings.signing_seed())
        async with open_runtime(
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            broker=broker,
            purges=erasure.PURGES,
            before_start=start_consumer,
        ) as runtime:
            app.state.runtime = runtime
            yield

    app.router.lifespan_context = lifespan
    app.state.settings = settings
    app.state.broker = broker
    app.state.lookup_limiter = RateLimit(
        settings.lookup_burst,
        settings.lookups_per_minute,
        "too many voucher look-ups from this address; try again later",
    )
    app.include_router(router)
    install_common(app, "ticketing")
    install_input_rules(app)
    serve_docs_offline(app)
    return app
