"""Wires the notifications service: what it consumes and publishes, its handlers, delivery, reminders, admin API."""

from __future__ import annotations

from atelier_platform.anonymise import late_events_scrubbed
from atelier_platform.service_app import Consumes, create_service_app
from atelier_schemas.topics import CATALOG_EVENTS, NOTIFICATIONS_EVENTS, REGISTRATION_EVENTS, TICKETING_EVENTS
from fastapi import FastAPI

from . import erasure
from .config import Settings
from .delivery import Deliverer
from .handlers import handlers
from .http import router
from .reminders import ReminderScheduler


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    deliverer = Deliverer(settings)
    scheduler = ReminderScheduler(settings.poll_seconds, on_queued=deliverer.wake)
    app = create_service_app(
        "notifications",
        settings,
        version="0.1.0",
        publishes=[NOTIFICATIONS_EVENTS],
        consumes=Consumes(
            topics=[REGISTRATION_EVENTS, CATALOG_EVENTS, TICKETING_EVENTS],
            group=settings.consumer_group,
            handlers=lambda: handlers(settings.reminder_before),
            around_batch=late_events_scrubbed(erasure.scrub),
            after_commit=deliverer.wake,  # a handled event queues messages to send
        ),
        routers=[router],
        workers=[deliverer.run, scheduler.run],
        purges=erasure.PURGES,
    )
    app.state.deliverer = deliverer  # its counters, for the metrics
    return app
