"""The bootstrap: the one place that wires registration — settings, runtime, unit of work, intake, commands, routes.

Named `app` because the platform serves every service as `<service>.app:create_app`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from atelier_platform import sealed
from atelier_platform.asyncapi import declare_publishers
from atelier_platform.consumer import EventConsumer
from atelier_platform.docs_assets import serve_docs_offline
from atelier_platform.http import install_common
from atelier_platform.input_rules import install_input_rules
from atelier_platform.runtime import Runtime, create_broker, open_runtime
from atelier_platform.subscribe import subscribe
from atelier_schemas.topics import (
    CATALOG_EVENTS,
    NOTIFICATIONS_EVENTS,
    REGISTRATION_COMMANDS,
    REGISTRATION_EVENTS,
    TICKETING_EVENTS,
)
from fastapi import FastAPI

from .adapters import idempotency_keys
from .config import Settings
from .entrypoints import admin_http, admin_registrations, erasure_http, http
from .entrypoints.commands import handlers
from .entrypoints.dependencies import RegistrationLimits, Services
from .entrypoints.intake import Intake
from .service_layer.manage_links import ManageLinks
from .service_layer.unit_of_work import UnitOfWork


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = Services(settings, RegistrationLimits(settings))
    broker = create_broker(settings.kafka_bootstrap_servers)
    app = FastAPI(title="Atelier registration", version="0.2.0")
    # The other services' events only for their erasure confirmations; the rest is skipped.
    for topic in (REGISTRATION_COMMANDS, TICKETING_EVENTS, NOTIFICATIONS_EVENTS):
        subscribe(broker, topic, settings.consumer_group, lambda: services.consumer, settings.kafka_consumer_batch_max)

    def before_start(runtime: Runtime) -> None:
        links = ManageLinks.from_settings(settings.public_url, settings.notifications_public_key)
        services.uow = UnitOfWork(runtime.pool, after_commit=runtime.relay.wake)
        services.intake = Intake(
            services.uow,
            links=links,
            max_waiting=settings.intake_max_waiting,
            deadline_seconds=settings.intake_deadline_seconds,
        )
        services.consumer = EventConsumer(
            group=settings.consumer_group,
            pool=runtime.pool,
            producer=runtime.producer,
            handlers=handlers(links, sealed.private_key(settings.command_proof_key.get_secret_value())),
            after_commit=runtime.relay.wake,
        )

    async def purge_idempotency_keys(runtime: Runtime) -> None:
        await idempotency_keys.purge_expired(runtime.pool)

    async def decide_registrations(runtime: Runtime) -> None:
        await services.intake.run()

    declare_publishers(broker, CATALOG_EVENTS, REGISTRATION_EVENTS)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            broker=broker,
            workers=[decide_registrations, decide_registrations],
            housekeeping=[purge_idempotency_keys],
            before_start=before_start,
        ) as runtime:
            app.state.runtime = runtime  # read by the platform's /readyz
            yield

    app.router.lifespan_context = lifespan
    app.state.services = services
    app.state.settings = settings  # read by the platform's bearer-token check
    app.state.broker = broker  # read by the platform's AsyncAPI page
    app.include_router(http.router)
    app.include_router(admin_http.router)
    app.include_router(admin_registrations.router)
    app.include_router(erasure_http.router)
    install_common(app, "registration")
    install_input_rules(app)
    serve_docs_offline(app)
    return app
