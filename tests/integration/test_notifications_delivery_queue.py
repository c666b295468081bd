"""The delivery queue on real Postgres and a real SMTP server: order, retries, permanent failures."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.handling import handle
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from notifications.delivery import Deliverer, requeue_failed
from notifications.handlers import handlers
from support.delivery import deliver_all, delivery_settings

REFUSED = "refused-mailbox@example.be"
BUSY = "busy-mailbox@example.be"
HANDLERS = handlers(reminder_before=timedelta(hours=24))


@pytest.fixture(scope="module")
async def pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_queue") as database:
        yield database.pool


@pytest.fixture(scope="module")
def smtp():
    with RecordingSmtpServer(free_port(), refused=(REFUSED,), busy=(BUSY,)) as server:
        yield server


async def message_rows(pool: asyncpg.Pool, registration_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM messages WHERE registration_id = $1 ORDER BY caused_at", registration_id)


async def announced(pool: asyncpg.Pool, registration_id: uuid.UUID) -> list[tuple[str, dict]]:
    """NotificationSent / NotificationFailed written to the outbox for this registration."""
    rows = await pool.fetch("SELECT headers, value FROM outbox WHERE key = $1 ORDER BY position", str(registration_id))
    return [(json.loads(r["headers"])["ce_type"], json.loads(r["value"])) for r in rows]


async def test_a_registrations_messages_leave_in_the_order_of_their_causes_not_of_their_arrival(pool, smtp):
    email = unique_email()
    seated = events.confirmed(email)
    issued = events.ticket_issued(seated.registration_id)
    confirmed_at = datetime.now(UTC)
    # ticketing.events was read first: the voucher is queued before the confirmation that caused it.
    await handle(pool, HANDLERS, issued, at=confirmed_at + timedelta(seconds=1))
    await deliver_all(pool, smtp.port)
    assert smtp.to(email) == []  # no contact yet: nobody to write to
    await handle(pool, HANDLERS, seated, at=confirmed_at)
    await deliver_all(pool, smtp.port)

    received = smtp.to(email)
    assert [m["Subject"] for m in received] == [
        "Registration confirmed: SEO basics",
        f"Your train voucher to Brussels-Central: {issued.code}",
    ]


async def test_a_5xx_reply_fails_that_message_at_once_and_says_so_while_others_go_through(pool, smtp):
    refused, accepted = events.confirmed(REFUSED), events.confirmed(unique_email())
    for message in (refused, accepted):
        await handle(pool, HANDLERS, message)
    await deliver_all(pool, smtp.port)

    [failed] = await message_rows(pool, refused.registration_id)
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["last_error"].startswith("550")
    [(event_type, failure)] = await announced(pool, refused.registration_id)
    assert event_type == "be.atelier.notifications.failed.v1"
    assert failure["message_id"] == failed["message_id"] and failure["error"].startswith("550")
    [sent] = await message_rows(pool, accepted.registration_id)
    assert sent["status"] == "sent"
    assert [t for t, _ in await announced(pool, accepted.registration_id)] == ["be.atelier.notifications.sent.v1"]
    assert smtp.to(REFUSED) == []


async def test_an_unreachable_server_pauses_sending_and_charges_the_message_nothing(pool):
    port = free_port()  # nobody listens here yet
    seated, other = events.confirmed(unique_email()), events.confirmed(unique_email())
    for message in (seated, other):
        await handle(pool, HANDLERS, message)
    deliverer = Deliverer(delivery_settings(port))
    await deliver_all(pool, port, deliverer)
    await deliver_all(pool, port, deliverer)  # at once again: the breaker is open, nobody tries

    for registration in (seated, other):
        [waiting] = await message_rows(pool, registration.registration_id)
        assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert deliverer.breaker.is_open and deliverer.counters.outages == 1
    assert "ServerUnavailable" in (await message_rows(pool, seated.registration_id))[0]["last_error"]

    with RecordingSmtpServer(port) as server:
        for _ in range(50):
            await deliver_all(pool, port, deliverer)
            if len(server.messages) == 2:
                break
            await asyncio.sleep(0.1)
        for registration in (seated, other):
            [delivered] = await message_rows(pool, registration.registration_id)
            assert (delivered["status"], delivered["attempts"]) == ("sent", 1)
    assert not deliverer.breaker.is_open and deliverer.counters.sent == 2


async def test_an_outage_longer_than_the_window_fails_the_message_visibly_without_charging_an_attempt(pool):
    port = free_port()  # nobody ever listens here
    seated = events.confirmed(unique_email())
    await handle(pool, HANDLERS, seated)
    window = timedelta(seconds=1.0)
    deliverer = Deliverer(delivery_settings(port, give_up_after_hours=window.total_seconds() / 3600))
    for _ in range(100):
        deliverer.breaker.got_through()  # no pause between tries: the window is what this test is about
        await deliver_all(pool, port, deliverer)
        [row] = await message_rows(pool, seated.registration_id)
        if row["status"] != "pending":
            break
        await pool.execute("UPDATE messages SET next_attempt_at = now() WHERE id = $1", row["id"])
        await asyncio.sleep(0.1)
    assert (row["status"], row["attempts"]) == ("failed", 0)
    assert "ServerUnavailable" in row["last_error"]
    assert await pool.fetchval("SELECT now() - created_at FROM messages WHERE id = $1", row["id"]) >= window
    assert [t for t, _ in await announced(pool, seated.registration_id)] == ["be.atelier.notifications.failed.v1"]


async def test_a_messages_own_transient_failure_is_retried_until_its_time_window_is_over(pool, smtp):
    seated = events.confirmed(BUSY)
    await handle(pool, HANDLERS, seated)
    window = timedelta(seconds=1.5)
    for _ in range(50):
        await deliver_all(pool, smtp.port, give_up_after_hours=window.total_seconds() / 3600)
        [row] = await message_rows(pool, seated.registration_id)
        if row["status"] != "pending":
            break
        await asyncio.sleep(0.1)
    assert row["status"] == "failed" and row["attempts"] > 1 and row["last_error"].startswith("450")
    assert await pool.fetchval("SELECT now() - created_at FROM messages WHERE id = $1", row["id"]) >= window
    assert [t for t, _ in await announced(pool, seated.registration_id)] == ["be.atelier.notifications.failed.v1"]


async def test_a_requeued_failed_message_goes_out_with_its_message_id_and_a_new_window(pool):
    address = f"fixed-{uuid.uuid4().hex[:8]}@example.be"
    smtp_refusing = RecordingSmtpServer(free_port(), refused=(address,))
    seated = events.confirmed(address)
    await handle(pool, HANDLERS, seated)
    with smtp_refusing:
        await deliver_all(pool, smtp_refusing.port)
        [failed] = await message_rows(pool, seated.registration_id)
        assert failed["status"] == "failed"

        smtp_refusing.accept(address)  # the address was fixed on the relay
        assert await requeue_failed(pool, seated.registration_id) == 1
        assert await requeue_failed(pool, seated.registration_id) == 0
        await deliver_all(pool, smtp_refusing.port)

        [sent] = await message_rows(pool, seated.registration_id)
        assert sent["status"] == "sent" and sent["retry_window_from"] > failed["created_at"]
        assert [str(m["Message-ID"]) for m in smtp_refusing.to(address)] == [failed["message_id"]]
