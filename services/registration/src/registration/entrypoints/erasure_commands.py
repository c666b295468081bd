"""Erasure on Kafka: the `ErasePerson` command, and the other services' confirmations."""

from __future__ import annotations

import asyncpg
from atelier_platform.consumer import Handlers
from atelier_schemas import CloudEvent, ErasePerson, NotificationsErasureConfirmed, TicketingErasureConfirmed

from ..service_layer import erasure


async def on_erase_person(conn: asyncpg.Connection, event: CloudEvent, command: ErasePerson) -> None:
    await erasure.erase(conn, command.email, command_id=command.command_id)


async def on_ticketing_erasure_confirmed(
    conn: asyncpg.Connection, event: CloudEvent, confirmed: TicketingErasureConfirmed
) -> None:
    await erasure.confirmed(conn, confirmed.erasure_id, "ticketing")


async def on_notifications_erasure_confirmed(
    conn: asyncpg.Connection, event: CloudEvent, confirmed: NotificationsErasureConfirmed
) -> None:
    await erasure.confirmed(conn, confirmed.erasure_id, "notifications")


HANDLERS: Handlers = {
    ErasePerson: on_erase_person,
    TicketingErasureConfirmed: on_ticketing_erasure_confirmed,
    NotificationsErasureConfirmed: on_notifications_erasure_confirmed,
}
