"""Notifications' own view of registrations and sessions, on a real Postgres: who is told what, and when."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.handling import handle
from atelier_platform.consumer import Handlers
from atelier_schemas import Message, SessionInfo
from notifications import kinds
from notifications.handlers import handlers
from notifications.outgoing import Outgoing, queue_message
from notifications.reminders import ReminderScheduler

DAY_BEFORE = handlers(reminder_before=timedelta(hours=24))


@pytest.fixture(scope="module")
async def pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_projection") as database:
        yield database.pool


async def apply(pool: asyncpg.Pool, message: Message, *, handlers: Handlers = DAY_BEFORE, at: datetime | None = None):
    await handle(pool, handlers, message, at=at)


async def messages_of(pool: asyncpg.Pool, registration_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT kind, status, context FROM messages WHERE registration_id = $1 ORDER BY caused_at, created_at",
        registration_id,
    )


async def kinds_of(pool: asyncpg.Pool, registration_id: uuid.UUID) -> list[str]:
    return [m["kind"] for m in await messages_of(pool, registration_id)]


async def test_a_session_change_is_told_only_to_seated_participants_whose_time_or_room_moved(pool):
    at = events.session()
    seated_en = events.confirmed(unique_email(), at=at)
    seated_fr = events.confirmed(unique_email(), language="fr", at=at.model_copy(update={"title": "Les bases"}))
    waiting = events.waitlisted(unique_email(), at=at)
    gone = events.confirmed(unique_email(), at=at)
    for message in (seated_en, seated_fr, waiting, gone, events.cancelled(gone)):
        await apply(pool, message)

    later = at.starts_at + timedelta(days=1)
    await apply(pool, events.session_changed(at, starts_at=later, room="Room 5"))

    for seated, title in ((seated_en, "SEO basics"), (seated_fr, "Les bases du référencement")):
        messages = await messages_of(pool, seated.registration_id)
        assert [m["kind"] for m in messages] == [kinds.REGISTRATION_CONFIRMED, kinds.SESSION_CHANGED]
        changed = json.loads(messages[1]["context"])
        assert datetime.fromisoformat(changed["starts_at"]) == later and changed["room"] == "Room 5"
        assert datetime.fromisoformat(changed["previous_starts_at"]) == at.starts_at
        assert changed["previous_room"] == "Room 2" and changed["title"] == title
        assert changed["calendar_sequence"] == 1
    assert await kinds_of(pool, waiting.registration_id) == [kinds.REGISTRATION_WAITLISTED]
    assert await kinds_of(pool, gone.registration_id) == [kinds.REGISTRATION_CONFIRMED, kinds.REGISTRATION_CANCELLED]
    waiting_now = await pool.fetchval(
        "SELECT starts_at FROM contacts WHERE registration_id = $1", waiting.registration_id
    )
    assert waiting_now == later  # a later promotion email will not bring the old time back


async def test_a_change_of_capacity_alone_tells_no_one(pool):
    at = events.session()
    seated = events.confirmed(unique_email(), at=at)
    await apply(pool, seated)
    await apply(pool, events.session_changed(at))
    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED]


async def test_a_registration_event_older_than_a_session_change_gets_the_new_facts(pool):
    at = events.session()
    written_before_the_change = datetime.now(UTC) - timedelta(minutes=1)
    later = at.starts_at + timedelta(hours=3)
    await apply(pool, events.session_changed(at, starts_at=later, room="Room 7"))
    late = events.confirmed(unique_email(), at=at)  # carries the old time: written before the change
    await apply(pool, late, at=written_before_the_change)

    [confirmation] = await messages_of(pool, late.registration_id)
    context = json.loads(confirmation["context"])
    assert datetime.fromisoformat(context["starts_at"]) == later and context["room"] == "Room 7"


async def test_a_registration_event_newer_than_the_last_session_change_keeps_its_own_facts(pool):
    at = events.session()
    await apply(pool, events.session_changed(at, room="Room 7"), at=datetime.now(UTC) - timedelta(minutes=5))
    moved_back = events.confirmed(unique_email(), at=at)  # written after a second change not yet read
    await apply(pool, moved_back)
    [confirmation] = await messages_of(pool, moved_back.registration_id)
    assert json.loads(confirmation["context"])["room"] == "Room 2"


async def test_queueing_the_same_cause_twice_records_one_message(pool):
    registration_id = uuid.uuid4()
    async with pool.acquire() as conn:
        for _ in range(2):
            message = Outgoing(
                cause="event-x",
                kind=kinds.VOUCHER_ISSUED,
                registration_id=registration_id,
                caused_at=datetime.now(UTC),
                context={},
            )
            await queue_message(conn, message)
    assert await kinds_of(pool, registration_id) == [kinds.VOUCHER_ISSUED]


async def test_a_confirmation_schedules_one_reminder_a_day_before_the_session(pool):
    seated = events.confirmed(unique_email())
    await apply(pool, seated)
    reminder = await pool.fetchrow(
        "SELECT due_at, status FROM reminders WHERE registration_id = $1", seated.registration_id
    )
    assert reminder["due_at"] == seated.session.starts_at - timedelta(hours=24)
    assert reminder["status"] == "scheduled"


async def test_no_reminder_when_the_registration_comes_within_a_day_of_the_session(pool):
    soon = events.confirmed(unique_email(), at=events.session(starts_at=datetime.now(UTC) + timedelta(hours=3)))
    await apply(pool, soon)
    assert await pool.fetchval("SELECT count(*) FROM reminders WHERE registration_id = $1", soon.registration_id) == 0


async def test_cancelling_the_registration_or_the_session_cancels_the_reminder(pool):
    by_participant = events.confirmed(unique_email())
    in_cancelled_session = events.confirmed(unique_email())
    for message in (
        by_participant,
        in_cancelled_session,
        events.cancelled(by_participant),
        events.session_cancelled(in_cancelled_session.session),
    ):
        await apply(pool, message)
    statuses = await pool.fetch(
        "SELECT status FROM reminders WHERE registration_id = ANY($1::uuid[])",
        [by_participant.registration_id, in_cancelled_session.registration_id],
    )
    assert [r["status"] for r in statuses] == ["cancelled", "cancelled"]


SCHEDULER = ReminderScheduler(poll_seconds=0.1, on_queued=lambda: None)


async def look_for_due_reminders(pool: asyncpg.Pool, session: SessionInfo, times: int = 1) -> None:
    """The scheduler, its clock set 23 hours before the session: the day-before reminder is due."""
    for _ in range(times):
        await SCHEDULER.queue_due(pool, now=session.starts_at - timedelta(hours=23))


async def test_a_due_reminder_becomes_one_message_however_often_the_scheduler_looks(pool):
    seated = events.confirmed(unique_email())
    await apply(pool, seated)
    await look_for_due_reminders(pool, seated.session, times=3)

    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED, kinds.REMINDER]
    assert (
        await pool.fetchval("SELECT status FROM reminders WHERE registration_id = $1", seated.registration_id)
        == "queued"
    )
    await apply(pool, events.session_changed(seated.session, starts_at=seated.session.starts_at + timedelta(days=2)))
    await look_for_due_reminders(pool, seated.session)
    reminders = [k for k in await kinds_of(pool, seated.registration_id) if k == kinds.REMINDER]
    assert reminders == [kinds.REMINDER]  # never twice, even when the session moves after it went out


async def test_a_reminder_is_not_due_before_its_time(pool):
    seated = events.confirmed(unique_email())
    await apply(pool, seated)
    await SCHEDULER.queue_due(pool, now=seated.session.starts_at - timedelta(hours=25))
    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED]


async def test_a_reminder_whose_session_was_cancelled_before_the_registration_was_read_is_not_sent(pool):
    seated = events.confirmed(unique_email())
    await apply(pool, events.session_cancelled(seated.session))  # catalog.events read first
    await apply(pool, seated)
    await look_for_due_reminders(pool, seated.session)
    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED]
    assert (
        await pool.fetchval("SELECT status FROM reminders WHERE registration_id = $1", seated.registration_id)
        == "cancelled"
    )


async def test_a_reminder_found_after_its_session_started_expires_unsent(pool):
    started = events.session(starts_at=datetime.now(UTC) - timedelta(minutes=1))
    seated = events.confirmed(unique_email(), at=started)
    # Confirmed long before; the service was down while the reminder was due.
    await apply(
        pool, seated, handlers=handlers(reminder_before=timedelta(hours=1)), at=datetime.now(UTC) - timedelta(days=2)
    )
    await SCHEDULER.queue_due(pool)
    assert await kinds_of(pool, seated.registration_id) == [kinds.REGISTRATION_CONFIRMED]
    assert (
        await pool.fetchval("SELECT status FROM reminders WHERE registration_id = $1", seated.registration_id)
        == "expired"
    )


async def test_a_queued_reminder_not_yet_sent_is_dropped_when_the_registration_is_cancelled(pool):
    seated = events.confirmed(unique_email())
    await apply(pool, seated)
    await look_for_due_reminders(pool, seated.session)
    await apply(pool, events.cancelled(seated))
    statuses = {m["kind"]: m["status"] for m in await messages_of(pool, seated.registration_id)}
    assert statuses[kinds.REMINDER] == "cancelled"
