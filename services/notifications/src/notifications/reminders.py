"""Reminders before a session: scheduled in the database, turned into messages when due.

One reminder per registration, ever (its message's cause is the registration itself). None for
a registration that was cancelled, or whose session was, or that was confirmed so close to the
session that the confirmation is reminder enough.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from atelier_platform.runtime import Runtime

from . import contexts, kinds
from .booking import Booking
from .outgoing import Outgoing, queue_message, reminder_cause

log = structlog.get_logger(__name__)

BATCH = 100


def due_at(starts_at: datetime, before: timedelta, decided_at: datetime) -> datetime | None:
    """When the reminder of a seat decided at `decided_at` is due; None when the session is too near for one."""
    due = starts_at - before
    return due if due > decided_at else None


def schedule_after(news: str, due: int) -> str:
    """A CTE scheduling, for each registration the CTE `news` returned, its reminder at the time in parameter
    `due` (none when NULL); a reminder already sent or cancelled stays so."""
    return (
        f"reminded AS (INSERT INTO reminders (registration_id, due_at) SELECT registration_id, ${due} FROM {news}"
        f" WHERE ${due}::timestamptz IS NOT NULL ON CONFLICT (registration_id)"
        " DO UPDATE SET due_at = excluded.due_at, updated_at = now() WHERE reminders.status = 'scheduled')"
    )


async def reschedule(
    conn: asyncpg.Connection, registration_id: uuid.UUID, starts_at: datetime, before: timedelta
) -> None:
    """The session moved: so does its reminder, unless it has gone out already."""
    await conn.execute(
        "UPDATE reminders SET due_at = $2, updated_at = now() WHERE registration_id = $1 AND status = 'scheduled'",
        registration_id,
        starts_at - before,
    )


async def cancel(conn: asyncpg.Connection, registration_ids: list[uuid.UUID]) -> None:
    """Drop the reminders of these registrations, scheduled or queued but not yet sent."""
    await conn.execute(
        "UPDATE reminders SET status = 'cancelled', updated_at = now()"
        " WHERE registration_id = ANY($1::uuid[]) AND status = 'scheduled'",
        registration_ids,
    )
    await conn.execute(
        "UPDATE messages SET status = 'cancelled'"
        " WHERE registration_id = ANY($1::uuid[]) AND kind = $2 AND status = 'pending'",
        registration_ids,
        kinds.REMINDER,
    )


async def cancel_for_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> None:
    registration_ids = await conn.fetch("SELECT registration_id FROM contacts WHERE session_id = $1", session_id)
    await cancel(conn, [row["registration_id"] for row in registration_ids])


class ReminderScheduler:
    """Polls for due reminders; each one becomes a pending message, in the same transaction."""

    def __init__(self, poll_seconds: float, on_queued: Callable[[], None]) -> None:
        self._poll_seconds = poll_seconds
        self._on_queued = on_queued

    async def run(self, runtime: Runtime) -> None:
        while True:
            try:
                handled = await self.queue_due(runtime.pool)
            except Exception as exc:  # the database gone, or a bug: reminders must not stop for good
                log.warning("reminder scheduling failed, will retry", error=type(exc).__name__)
                handled = 0
            if handled < BATCH:
                await asyncio.sleep(self._poll_seconds)

    async def queue_due(self, pool: asyncpg.Pool, now: datetime | None = None) -> int:
        """Decide every reminder due by `now` (default: the clock's now) once; returns how many were decided."""
        now = now or datetime.now(UTC)
        queued = 0
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT r.registration_id, c.*, coalesce(s.cancelled, false) AS session_cancelled"
                " FROM reminders r JOIN contacts c USING (registration_id)"
                " LEFT JOIN sessions s ON s.session_id = c.session_id"
                " WHERE r.status = 'scheduled' AND r.due_at <= $1 ORDER BY r.due_at LIMIT $2"
                " FOR UPDATE OF r SKIP LOCKED",
                now,
                BATCH,
            )
            for row in rows:
                if row["status"] != "confirmed" or row["session_cancelled"]:
                    outcome = "cancelled"
                elif row["starts_at"] <= now:
                    outcome = "expired"  # the service was down when it was due
                else:
                    outcome = "queued"
                    await queue_message(
                        conn,
                        Outgoing(
                            cause=reminder_cause(row["registration_id"]),
                            kind=kinds.REMINDER,
                            registration_id=row["registration_id"],
                            caused_at=now,
                            context=contexts.seat(Booking.from_contact(row)),
                        ),
                    )
                    queued += 1
                await conn.execute(
                    "UPDATE reminders SET status = $2, updated_at = now() WHERE registration_id = $1",
                    row["registration_id"],
                    outcome,
                )
        if queued:
            log.info("reminders queued", count=queued)
            self._on_queued()
        return len(rows)
