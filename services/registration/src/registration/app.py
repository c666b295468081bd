"""The bootstrap: the one place that wires registration — settings, unit of work, intake, commands, routes.

Named `app` because the platform serves every service as `<service>.app:create_app`.
"""

from __future__ import annotations

from atelier_platform import sealed
from atelier_platform.runtime import Runtime
from atelier_platform.service_app import Consumes, create_service_app
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
from .entrypoints.commands import around_batch, handlers
from .entrypoints.dependencies import RegistrationLimits, Services
from .entrypoints.intake import Intake
from .service_layer.manage_links import ManageLinks
from .service_layer.unit_of_work import UnitOfWork


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = Services(settings, RegistrationLimits(settings))
    links: list[ManageLinks] = []  # made in the lifespan: the settings may be unchecked here

    def before_start(runtime: Runtime) -> None:
        links[:] = [ManageLinks.from_settings(settings.public_url, settings.notifications_public_key)]
        services.uow = UnitOfWork(runtime.pool, after_commit=runtime.relay.wake)
        services.intake = Intake(
            services.uow,
            links=links[0],
            max_waiting=settings.intake_max_waiting,
            deadline_seconds=settings.intake_deadline_seconds,
        )

    async def decide_registrations(runtime: Runtime) -> None:
        await services.started_intake().run()

    async def purge_idempotency_keys(runtime: Runtime) -> None:
        await idempotency_keys.purge_expired(runtime.pool)

    app = create_service_app(
        "registration",
        settings,
        version="0.2.0",
        publishes=[CATALOG_EVENTS, REGISTRATION_EVENTS],
        # The other services' events only for their erasure confirmations; the rest is skipped.
        consumes=Consumes(
            topics=[REGISTRATION_COMMANDS, TICKETING_EVENTS, NOTIFICATIONS_EVENTS],
            group=settings.consumer_group,
            handlers=lambda: handlers(sealed.private_key(settings.command_proof_key.get_secret_value())),
            around_batch=around_batch(lambda: links[0]),
        ),
        routers=[http.router, admin_http.router, admin_registrations.router, erasure_http.router],
        workers=[decide_registrations, decide_registrations],
        housekeeping=[purge_idempotency_keys],
        before_start=before_start,
    )
    app.state.services = services
    return app
