"""The bootstrap: the one place that wires registration — settings, unit of work, intake, commands, routes.

Named `app` because the platform serves every service as `<service>.app:create_app`.
"""

from __future__ import annotations

from functools import partial

from atelier_platform.runtime import Runtime
from atelier_platform.service_app import Consumes, create_service_app
from atelier_schemas import CancelRegistration, RegisterParticipant
from atelier_schemas.topics import CATALOG_EVENTS, REGISTRATION_COMMANDS, REGISTRATION_EVENTS
from fastapi import FastAPI

from . import GROUP
from .adapters import idempotency_keys
from .config import Settings
from .entrypoints import admin_http, http
from .entrypoints.commands import on_cancel_registration, on_register_participant
from .entrypoints.dependencies import Services
from .entrypoints.intake import Intake
from .service_layer.unit_of_work import UnitOfWork


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    services = Services(settings)

    def before_start(runtime: Runtime) -> None:
        services.uow = UnitOfWork(runtime.pool, after_commit=runtime.relay.wake)
        services.intake = Intake(
            services.uow,
            public_url=settings.public_url,
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
        consumes=Consumes(
            topics=[REGISTRATION_COMMANDS],
            group=GROUP,
            handlers=lambda: {
                RegisterParticipant: partial(on_register_participant, public_url=settings.public_url),
                CancelRegistration: on_cancel_registration,
            },
        ),
        routers=[http.router, admin_http.router],
        workers=[decide_registrations, decide_registrations],
        housekeeping=[purge_idempotency_keys],
        before_start=before_start,
    )
    app.state.services = services
    return app
