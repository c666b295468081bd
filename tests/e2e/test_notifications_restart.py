"""Notifications killed outright with messages and reminders pending: after a restart, each goes out once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.notifications_process import NotificationsProcess
from atelier_devkit.publishing import publish
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from notifications import kinds
from notifications.outgoing import message_id_for, reminder_cause

REMINDER_BEFORE = timedelta(hours=1)


@pytest.fixture
async def database(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_restart") as database:
        yield database


async def test_killed_with_pending_messages_and_reminders_it_sends_each_once_after_a_restart(infra, database, tmp_path):
    smtp = RecordingSmtpServer(free_port())  # not started yet: nothing can be delivered before the kill
    notifications = NotificationsProcess(
        infra,
        database_url=database.url,
        smtp_port=smtp.port,
        log=tmp_path / "notifications.log",
        reminder_hours_before=REMINDER_BEFORE.total_seconds() / 3600,
        poll_seconds=0.5,
        retry_base_seconds=0.5,
        retry_max_seconds=2,
    )
    await notifications.start()
    # Reminders fall due about 30 seconds from now: after the kill and the restart.
    starts = datetime.now(UTC).replace(microsecond=0) + REMINDER_BEFORE + timedelta(seconds=30)
    registrations = [events.confirmed(unique_email(), at=events.session(starts_at=starts)) for _ in range(20)]
    vouchers = [events.ticket_issued(r.registration_id) for r in registrations[:5]]
    published = await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], *registrations, *vouchers)
    ids = [r.registration_id for r in registrations]

    async def all_queued_and_tried() -> bool:
        """Every message recorded; sending tried, found the server out and paused."""
        queued, tried = await database.pool.fetchrow(
            "SELECT count(*), count(*) FILTER (WHERE last_error IS NOT NULL) FROM messages"
            " WHERE registration_id = ANY($1::uuid[]) AND status = 'pending'",
            ids,
        )
        return queued == len(published) and tried >= 1

    try:
        assert await eventually(all_queued_and_tried, timeout=60), notifications.log_tail()
        scheduled = await database.pool.fetchval(
            "SELECT count(*) FROM reminders WHERE registration_id = ANY($1::uuid[]) AND status = 'scheduled'", ids
        )
        assert scheduled == len(registrations)

        await notifications.kill()
        smtp.start()
        await notifications.start()

        expected = {message_id_for(event.id, kinds.REGISTRATION_CONFIRMED) for event in published[:20]}
        expected |= {message_id_for(event.id, kinds.VOUCHER_ISSUED) for event in published[20:]}
        expected |= {message_id_for(reminder_cause(i), kinds.REMINDER) for i in ids}

        assert await eventually(lambda: expected <= set(smtp.count_by_message_id()), timeout=120), (
            notifications.log_tail()
        )
        await asyncio.sleep(3)  # room for a wrong second copy to arrive
        counts = smtp.count_by_message_id()
        assert {message_id: counts[message_id] for message_id in expected} == dict.fromkeys(expected, 1)
        assert len(smtp.messages) == len(expected)
        reminders = [m for m in smtp.messages if str(m["Subject"]).startswith("Reminder: SEO basics")]
        assert len(reminders) == len(registrations)
    finally:
        await notifications.stop()
        smtp.stop()


async def test_stopped_in_the_middle_of_a_burst_it_finishes_what_it_had_in_hand_and_sends_nothing_twice(
    infra, database, tmp_path
):
    with RecordingSmtpServer(free_port()) as smtp:
        notifications = NotificationsProcess(
            infra, database_url=database.url, smtp_port=smtp.port, log=tmp_path / "notifications.log"
        )
        await notifications.start()
        try:
            published = await publish(
                infra["KAFKA_BOOTSTRAP_SERVERS"], *[events.confirmed(unique_email()) for _ in range(300)]
            )
            # Looked for often: a burst of a hundred went out whole between two looks every half second.
            sending = await eventually(lambda: smtp.accepted_count >= 20, timeout=60, interval=0.02)
            assert sending, notifications.log_tail()
            await notifications.stop()  # SIGTERM while messages are being sent
            assert smtp.accepted_count < len(published)  # really in the middle
            await notifications.start()

            expected = {message_id_for(event.id, kinds.REGISTRATION_CONFIRMED) for event in published}
            assert await eventually(lambda: expected <= set(smtp.count_by_message_id()), timeout=120), (
                notifications.log_tail()
            )
            await asyncio.sleep(2)  # room for a wrong second copy to arrive
            counts = smtp.count_by_message_id()
            assert {message_id: counts[message_id] for message_id in expected} == dict.fromkeys(expected, 1)
        finally:
            await notifications.stop()
