"""Notifications on a real Postgres never goes back in time: an old event read after newer ones (a
dead letter replayed after a fix, or a copy under a new event id) changes nothing and sends nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.handling import handle
from notifications import kinds
from notifications.handlers import handlers

HANDLERS = handlers(reminder_before=timedelta(hours=24))
T0 = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture(scope="module")
async def pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_replays") as database:
        yield database.pool


async def kinds_of(pool: asyncpg.Pool, registration_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT kind FROM messages WHERE registration_id = $1 AND status <> 'cancelled' ORDER BY caused_at, created_at",
        registration_id,
    )
    return [row["kind"] for row in rows]


async def contact_and_reminder(pool: asyncpg.Pool, registration_id: uuid.UUID) -> tuple[str, str | None]:
    return await pool.fetchrow(
        "SELECT c.status, r.status AS reminder FROM contacts c LEFT JOIN reminders r USING (registration_id)"
        " WHERE c.registration_id = $1",
        registration_id,
    )


@pytest.mark.parametrize("confirmation_first_handled", [True, False], ids=["handled-then-replayed", "dead-lettered"])
async def test_a_confirmation_replayed_after_the_cancellation_queues_nothing_and_plans_no_reminder(
    pool, confirmation_first_handled
):
    confirmed = events.confirmed(unique_email())
    if confirmation_first_handled:
        await handle(pool, HANDLERS, confirmed, at=T0)
    await handle(pool, HANDLERS, events.cancelled(confirmed), at=T0 + timedelta(minutes=5))
    before = await kinds_of(pool, confirmed.registration_id)

    await handle(pool, HANDLERS, confirmed, at=T0)  # make replay-dlq: the old confirmation, read last

    assert await kinds_of(pool, confirmed.registration_id) == before
    assert kinds.REGISTRATION_CONFIRMED not in before or confirmation_first_handled
    status, reminder = await contact_and_reminder(pool, confirmed.registration_id)
    assert status == "cancelled" and reminder in (None, "cancelled")


async def test_a_waitlisting_replayed_after_the_promotion_sends_no_waitlist_email_and_keeps_the_seat(pool):
    waiting = events.waitlisted(unique_email())
    await handle(pool, HANDLERS, waiting, at=T0)
    await handle(pool, HANDLERS, events.promoted(waiting), at=T0 + timedelta(minutes=5))

    await handle(pool, HANDLERS, waiting, at=T0)
    await handle(pool, HANDLERS, events.promoted(waiting), at=T0 + timedelta(minutes=5))  # a copy, new id

    assert await kinds_of(pool, waiting.registration_id) == [kinds.REGISTRATION_WAITLISTED, kinds.REGISTRATION_PROMOTED]
    status, reminder = await contact_and_reminder(pool, waiting.registration_id)
    assert (status, reminder) == ("confirmed", "scheduled")


async def test_an_older_session_change_replayed_after_a_newer_one_tells_no_one_and_keeps_the_reminder(pool):
    at = events.session()
    seated = events.confirmed(unique_email(), at=at)
    first = events.session_changed(at, starts_at=at.starts_at + timedelta(days=1))
    second = events.session_changed(at, starts_at=at.starts_at + timedelta(days=2))
    await handle(pool, HANDLERS, seated, at=T0)
    await handle(pool, HANDLERS, first, at=T0 + timedelta(minutes=1))
    await handle(pool, HANDLERS, second, at=T0 + timedelta(minutes=2))

    await handle(pool, HANDLERS, first, at=T0 + timedelta(minutes=1))

    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED] + [kinds.SESSION_CHANGED] * 2
    due_at = await pool.fetchval("SELECT due_at FROM reminders WHERE registration_id = $1", seated.registration_id)
    assert due_at == second.session.starts_at - timedelta(hours=24)


async def test_a_voucher_replayed_after_it_was_voided_is_not_sent_again(pool):
    seated = events.confirmed(unique_email())
    issued = events.ticket_issued(seated.registration_id)
    await handle(pool, HANDLERS, seated, at=T0)
    await handle(pool, HANDLERS, issued, at=T0 + timedelta(minutes=1))
    await handle(pool, HANDLERS, events.cancelled(seated), at=T0 + timedelta(minutes=2))
    await handle(pool, HANDLERS, events.ticket_voided(issued), at=T0 + timedelta(minutes=3))

    await handle(pool, HANDLERS, issued, at=T0 + timedelta(minutes=1))
    await handle(pool, HANDLERS, events.ticket_voided(issued), at=T0 + timedelta(minutes=3))

    assert await kinds_of(pool, seated.registration_id) == [
        kinds.REGISTRATION_CONFIRMED,
        kinds.VOUCHER_ISSUED,
        kinds.REGISTRATION_CANCELLED,
        kinds.VOUCHER_VOIDED,
    ]
