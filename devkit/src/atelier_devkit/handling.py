"""Apply an event to notifications' handlers directly, as its consumer would, without Kafka."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import asyncpg
from atelier_platform.consumer import Handlers
from atelier_schemas import CloudEvent, Message, to_cloud_event


async def handle(pool: asyncpg.Pool, handlers: Handlers, message: Message, *, at: datetime | None = None) -> CloudEvent:
    """One event in one transaction; `at` is when its producer wrote it (default: now)."""
    event = to_cloud_event(message, source="/tests")
    if at is not None:
        event = replace(event, time=at)
    async with pool.acquire() as conn, conn.transaction():
        await handlers[type(message)](conn, event, message)
    return event
