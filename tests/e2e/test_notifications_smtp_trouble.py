"""Notifications as a real process against an SMTP server that goes away or refuses an address."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_devkit.notifications_process import NotificationsProcess
from atelier_devkit.publishing import publish
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_schemas.topics import NOTIFICATIONS_EVENTS
from notifications import kinds
from notifications.outgoing import message_id_for

REFUSED = "no-such-mailbox@example.be"
OUTAGE_SECONDS = 30


@pytest.fixture(scope="module")
def smtp():
    with RecordingSmtpServer(free_port(), refused=(REFUSED,)) as server:
        yield server


@pytest.fixture(scope="module")
async def database(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_trouble") as database:
        yield database


@pytest.fixture(scope="module")
async def notifications(infra, database, smtp, tmp_path_factory):
    process = NotificationsProcess(
        infra,
        database_url=database.url,
        smtp_port=smtp.port,
        log=tmp_path_factory.mktemp("notifications-trouble") / "notifications.log",
    )  # the default settings: an outage must not cost the messages anything with them
    await process.start()
    yield process
    await process.stop()


async def test_smtp_gone_for_30_seconds_amid_200_registrations_loses_no_message_doubles_none_charges_none(
    infra, notifications, smtp, database
):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    registrations = [events.confirmed(unique_email()) for _ in range(200)]
    first, second = registrations[:100], registrations[100:]
    published = await publish(bootstrap, *first)
    assert await eventually(lambda: smtp.accepted_count >= 10, timeout=60, interval=0.1), notifications.log_tail()

    smtp.stop()  # in the middle: some of the first hundred are through, the rest are not
    published += await publish(bootstrap, *second)
    await asyncio.sleep(OUTAGE_SECONDS)
    smtp.start()

    expected = {message_id_for(event.id, kinds.REGISTRATION_CONFIRMED) for event in published}
    assert await eventually(lambda: expected <= set(smtp.count_by_message_id()), timeout=120), notifications.log_tail()
    await asyncio.sleep(3)  # room for a wrong second copy to arrive
    counts = smtp.count_by_message_id()
    assert {message_id: counts[message_id] for message_id in expected} == dict.fromkeys(expected, 1)
    rows = await database.pool.fetch(
        "SELECT status, attempts FROM messages WHERE registration_id = ANY($1::uuid[])",
        [r.registration_id for r in registrations],
    )
    assert sorted({r["status"] for r in rows}) == ["sent"] and len(rows) == 200
    assert {r["attempts"] for r in rows} == {1}  # the outage cost no message an attempt
    assert "smtp server unavailable, pausing" in notifications.log.read_text()  # it was really in the way


async def test_a_5xx_for_one_address_fails_that_message_only(infra, notifications, smtp, database):
    refused = events.confirmed(REFUSED)
    others = [events.confirmed(unique_email()) for _ in range(3)]
    await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], refused, *others)

    for other in others:
        assert await eventually(lambda other=other: smtp.to(str(other.participant.email)), timeout=60)
    failures = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"],
        NOTIFICATIONS_EVENTS,
        lambda r: (
            r.key == str(refused.registration_id).encode()
            and headers_of(r)["ce_type"] == "be.atelier.notifications.failed.v1"
        ),
    )
    assert len(failures) == 1
    assert payload(failures[0])["kind"] == kinds.REGISTRATION_CONFIRMED
    assert payload(failures[0])["error"].startswith("550") and payload(failures[0])["attempts"] == 1
    assert smtp.to(REFUSED) == []

    async with httpx.AsyncClient() as client:
        response = await client.get(
            f"{notifications.url}/admin/messages",
            params={"registration_id": str(refused.registration_id)},
            headers={"Authorization": f"Bearer {notifications.admin_token}"},
        )
    assert response.status_code == 200
    [message] = response.json()["messages"]
    assert (message["status"], message["attempts"]) == ("failed", 1)
    assert message["last_error"].startswith("550") and message["sent_at"] is None

    smtp.accept(REFUSED)  # the relay was fixed
    async with httpx.AsyncClient() as client:
        requeue = f"{notifications.url}/admin/messages/requeue"
        assert (await client.post(requeue, params={"registration_id": str(refused.registration_id)})).status_code == 401
        response = await client.post(
            requeue,
            params={"registration_id": str(refused.registration_id)},
            headers={"Authorization": f"Bearer {notifications.admin_token}"},
        )
    assert response.status_code == 200 and response.json() == {"requeued": 1}
    assert await eventually(lambda: smtp.to(REFUSED), timeout=30)
    assert [str(m["Message-ID"]) for m in smtp.to(REFUSED)] == [message["message_id"]]
