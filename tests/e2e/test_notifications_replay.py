"""A dead letter replayed after newer events, with notifications as a real process on real Kafka:
`make replay-dlq` brings back a confirmation after its cancellation, and nothing is sent or planned."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.kafka import cloud_event
from atelier_devkit.notifications_process import NotificationsProcess
from atelier_devkit.publishing import publish
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_platform.consumer import EventConsumer
from atelier_platform.replay import replay
from atelier_schemas.topics import REGISTRATION_EVENTS, dead_letter
from notifications import kinds
from support.ticketing import handled, record_of


@pytest.fixture
async def database(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_replay") as database:
        yield database


async def test_a_confirmation_replayed_from_the_dead_letters_after_the_cancellation_sends_and_plans_nothing(
    infra, database, tmp_path
):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    with RecordingSmtpServer(free_port()) as smtp:
        notifications = NotificationsProcess(
            infra, database_url=database.url, smtp_port=smtp.port, log=tmp_path / "notifications.log"
        )
        await notifications.start()
        try:
            email = unique_email()
            confirmed = events.confirmed(email)
            confirmation = cloud_event(confirmed)
            # The confirmation once hit a bug in this group: it sits in the dead letters.
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
            await producer.start()
            try:
                consumer = EventConsumer(group=notifications.group, pool=database.pool, producer=producer, handlers={})
                await consumer.dead_letter(record_of(confirmation), ValueError("a bug, fixed since"))
            finally:
                await producer.stop()
            await publish(bootstrap, events.cancelled(confirmed))
            assert await eventually(lambda: smtp.to(email), timeout=60), notifications.log_tail()

            assert await replay(bootstrap, dead_letter(REGISTRATION_EVENTS), group=notifications.group) == {
                notifications.group: 1
            }
            assert await eventually(
                lambda: handled(database.pool, [confirmation.id], notifications.group), timeout=60
            ), notifications.log_tail()
        finally:
            await notifications.stop()

    rows = await database.pool.fetch("SELECT kind FROM messages WHERE registration_id = $1", confirmed.registration_id)
    assert [r["kind"] for r in rows] == [kinds.REGISTRATION_CANCELLED]
    assert (
        await database.pool.fetchval(
            "SELECT count(*) FROM reminders WHERE registration_id = $1 AND status = 'scheduled'",
            confirmed.registration_id,
        )
        == 0
    )
    assert (
        await database.pool.fetchval(
            "SELECT status FROM contacts WHERE registration_id = $1", confirmed.registration_id
        )
        == "cancelled"
    )
    assert len(smtp.to(email)) == 1  # the cancellation email alone
