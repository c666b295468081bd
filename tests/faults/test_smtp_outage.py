"""SMTP trouble for longer than notifications' retry window: nothing is dropped silently.

The window (NOTIFICATIONS_GIVE_UP_AFTER_HOURS) is shortened to 5 s here: whatever keeps a message
from going out for 5 s after it was queued — its own transient failures (451 to its recipient) or
an outage of the server (nothing listening) — it then fails, with one NotificationFailed event and
`failed` in the admin log, ready to be re-queued. The outage costs it no attempt.
"""

from __future__ import annotations

import collections

import httpx
import pytest
from aiosmtpd.controller import Controller
from atelier_devkit import tally
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.kafka import headers_of, payload
from atelier_devkit.notification_events import confirmed
from atelier_devkit.notifications_process import NotificationsProcess
from atelier_devkit.publishing import publish
from atelier_devkit.smtp_server import HOST
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_schemas import NotificationFailed
from atelier_schemas.topics import NOTIFICATIONS_EVENTS

WINDOW_SECONDS = 5
OUTAGE_SECONDS = 15  # three times the window: the server never comes back during the test
MESSAGES = 100


class DeferEveryRecipient:
    """A server that is up but answers every recipient 451 (try again later): the message's own failure."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        return "451 4.7.1 greylisted, try again later"


@pytest.fixture
async def notifications(faults, tmp_path):
    port = free_port()
    async with notifications_database(faults.env["NOTIFICATIONS_DATABASE_URL"], "notifications_smtp_trouble") as db:
        process = NotificationsProcess(
            faults.env,
            database_url=db.url,
            smtp_port=port,
            log=tmp_path / "notifications.log",
            give_up_after_hours=WINDOW_SECONDS / 3600,
            retry_base_seconds=0.5,
            retry_max_seconds=1,
            outage_max_pause_seconds=1,
            poll_seconds=0.2,
        )
        process.smtp_port, process.db = port, db
        await process.start()
        try:
            yield process
        finally:
            await process.stop()


async def statuses(db, ids) -> collections.Counter:
    rows = await db.pool.fetch("SELECT status FROM messages WHERE registration_id = ANY($1::uuid[])", ids)
    return collections.Counter(r["status"] for r in rows)


async def admin_log(notifications, registration_id) -> list[dict]:
    async with httpx.AsyncClient(base_url=notifications.url) as client:
        response = await client.get(
            "/admin/messages",
            params={"registration_id": str(registration_id)},
            headers={"Authorization": f"Bearer {notifications.admin_token}"},
        )
    assert response.status_code == 200
    return response.json()["messages"]


async def failures_since(bootstrap, before, ids) -> list:
    wanted = {str(i) for i in ids}
    return [
        record
        for record in await tally.records_since(bootstrap, before, [NOTIFICATIONS_EVENTS])
        if headers_of(record)["ce_type"] == NotificationFailed.TYPE and payload(record)["registration_id"] in wanted
    ]


async def every_failure_published(bootstrap, before, ids) -> list:
    """One NotificationFailed per message, waited for: the relay publishes them just after the commits."""
    failures: list = []

    async def all_there() -> bool:
        failures[:] = await failures_since(bootstrap, before, ids)
        return len({headers_of(r)["ce_id"] for r in failures}) == len(ids)

    assert await eventually(all_there, timeout=30), f"{len(failures)} of {len(ids)} failures published"
    return failures


async def test_messages_own_failures_beyond_the_window_end_failed_on_kafka_and_in_the_admin_log(faults, notifications):
    before = await tally.end_offsets(faults.bootstrap, [NOTIFICATIONS_EVENTS])
    server = Controller(DeferEveryRecipient(), hostname=HOST, port=notifications.smtp_port)
    server.start()
    try:
        registrations = [confirmed(unique_email()) for _ in range(MESSAGES)]
        await publish(faults.bootstrap, *registrations)
        ids = [r.registration_id for r in registrations]
        assert await eventually(lambda: statuses_are(notifications.db, ids, {"failed": MESSAGES}), timeout=90), (
            notifications.log_tail()
        )
    finally:
        server.stop()

    failures = await every_failure_published(faults.bootstrap, before, ids)
    assert all(payload(r)["error"].startswith("451") and payload(r)["attempts"] >= 1 for r in failures)
    for registration_id in ids:
        [message] = await admin_log(notifications, registration_id)
        assert (message["status"], message["sent_at"]) == ("failed", None)
        assert message["last_error"].startswith("451")


async def test_smtp_down_three_times_the_window_fails_every_message_on_kafka_and_in_the_admin_log(
    faults, notifications
):
    before = await tally.end_offsets(faults.bootstrap, [NOTIFICATIONS_EVENTS])
    registrations = [confirmed(unique_email()) for _ in range(MESSAGES)]
    await publish(faults.bootstrap, *registrations)  # nothing listens on the SMTP port
    ids = [r.registration_id for r in registrations]
    assert await eventually(
        lambda: statuses_are(notifications.db, ids, {"failed": MESSAGES}), timeout=OUTAGE_SECONDS * 6
    ), notifications.log_tail()

    failures = await every_failure_published(faults.bootstrap, before, ids)
    assert all(payload(r)["error"] for r in failures)
    for registration_id in ids:
        [message] = await admin_log(notifications, registration_id)
        assert (message["status"], message["sent_at"]) == ("failed", None)
        assert message["last_error"]


async def statuses_are(db, ids, wanted: dict) -> bool:
    return await statuses(db, ids) == wanted
