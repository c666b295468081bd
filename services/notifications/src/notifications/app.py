"""Wires the notifications service: settings, runtime, subscribers, delivery."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from atelier_platform.asyncapi import declare_publishers
from atelier_platform.consumer import EventConsumer
from atelier_platform.http import install_common
from atelier_platform.runtime import Runtime, create_broker, open_runtime
from atelier_platform.subscribe import subscribe
from atelier_schemas import RegistrationConfirmed, TicketIssued
from atelier_schemas.topics import NOTIFICATIONS_EVENTS, REGISTRATION_EVENTS, TICKETING_EVENTS
from fastapi import FastAPI

from . import GROUP
from .config import Settings
from .delivery import Deliverer
from .handlers import on_registration_confirmed, on_ticket_issued


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    broker = create_broker(settings.kafka_bootstrap_servers)
    declare_publishers(broker, NOTIFICATIONS_EVENTS)
    app = FastAPI(title="Atelier notifications", version="0.1.0")
    for topic in (REGISTRATION_EVENTS, TICKETING_EVENTS):
        subscribe(broker, topic, GROUP, lambda: app.state.consumer)
    deliverer = Deliverer(settings)

    def start_consumer(runtime: Runtime) -> None:
        app.state.consumer = EventConsumer(
            group=GROUP,
            pool=runtime.pool,
            producer=runtime.producer,
            handlers={
                RegistrationConfirmed: on_registration_confirmed,
                TicketIssued: on_ticket_issued,
            },
            after_commit=deliverer.wake,
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            broker=broker,
            workers=[deliverer.run],
            before_start=start_consumer,
        ) as runtime:
            app.state.runtime = runtime
            yield

    app.router.lifespan_context = lifespan
    app.state.settings = settings
    app.state.broker = broker
    install_common(app)
    return app
