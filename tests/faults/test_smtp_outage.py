"""SMTP down for longer than notifications' retry budget: every message ends `failed`, says so on
Kafka and in the admin log; none is dropped silently.

The budget is shortened for the test: 5 attempts, 0.5 s doubling, capped at 2 s, each delay scaled
by 50-100 %: a message is given up 2.75-5.5 s after its first attempt (plus up to 0.2 s of polling
per attempt). The server stays away for the whole test, well beyond that window.
"""

from __future__ import annotations

import collections

import httpx
from atelier_schemas import NotificationFailed
from atelier_schemas.topics import NOTIFICATIONS_EVENTS
from support import tally
from support.api import unique_email
from support.databases import notifications_database
from support.kafka import headers_of, payload
from support.notification_events import confirmed
from support.notifications_process import NotificationsProcess
from support.publishing import publish
from support.smtp_server import free_port
from support.waiting import eventually

ATTEMPTS = 5
MESSAGES = 100


async def test_smtp_down_beyond_the_retry_budget_fails_every_message_visibly(faults, tmp_path):
    bootstrap = faults.bootstrap
    events_before = await tally.end_offsets(bootstrap, [NOTIFICATIONS_EVENTS])
    nobody_listens = free_port()
    async with notifications_database(faults.env["NOTIFICATIONS_DATABASE_URL"], "notifications_smtp_down") as db:
        notifications = NotificationsProcess(
            faults.env,
            database_url=db.url,
            smtp_port=nobody_listens,
            log=tmp_path / "notifications.log",
            max_attempts=ATTEMPTS,
            retry_base_seconds=0.5,
            retry_max_seconds=2,
            poll_seconds=0.2,
        )
        await notifications.start()
        try:
            registrations = [confirmed(unique_email()) for _ in range(MESSAGES)]
            await publish(bootstrap, *registrations)
            ids = [r.registration_id for r in registrations]

            async def statuses() -> collections.Counter:
                rows = await db.pool.fetch(
                    "SELECT status, attempts FROM messages WHERE registration_id = ANY($1::uuid[])", ids
                )
                return collections.Counter((r["status"], r["attempts"]) for r in rows)

            assert await eventually(lambda: statuses_are(statuses, {("failed", ATTEMPTS): MESSAGES}), timeout=90), (
                await statuses(),
                notifications.log_tail(),
            )

            failures = [
                record
                for record in await tally.records_since(bootstrap, events_before, [NOTIFICATIONS_EVENTS])
                if headers_of(record)["ce_type"] == NotificationFailed.TYPE
                and payload(record)["registration_id"] in {str(i) for i in ids}
            ]
            assert len({headers_of(r)["ce_id"] for r in failures}) == MESSAGES
            assert {payload(r)["attempts"] for r in failures} == {ATTEMPTS}
            assert all(payload(r)["error"] for r in failures)

            async with httpx.AsyncClient(base_url=notifications.url) as client:
                for registration_id in ids:
                    response = await client.get(
                        "/admin/messages",
                        params={"registration_id": str(registration_id)},
                        headers={"Authorization": f"Bearer {notifications.admin_token}"},
                    )
                    [message] = response.json()["messages"]
                    assert (message["status"], message["attempts"]) == ("failed", ATTEMPTS)
                    assert message["last_error"] and message["sent_at"] is None
        finally:
            await notifications.stop()


async def statuses_are(statuses, wanted: dict) -> bool:
    return await statuses() == wanted
