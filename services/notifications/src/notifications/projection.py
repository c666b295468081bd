"""Notifications' own view of each registration and session, kept from the events it consumes.

No call to another service: whatever a message needs was carried by an event and kept here.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg
from atelier_schemas import ScheduledSession
from atelier_schemas.registration import RegistrationFacts

from .booking import Booking
from .outgoing import Outgoing, queue_after
from .reminders import schedule_after


@dataclass(frozen=True)
class Rebooking:
    registration_id: uuid.UUID
    status: str
    before: Booking
    after: Booking


async def booking_for(
    conn: asyncpg.Connection, facts: RegistrationFacts, told_at: datetime, sealed_manage_url: str | None = None
) -> Booking:
    """The event's session facts, unless catalog.events said something newer about that session.

    Topics are not ordered with each other: a registration event written before a session
    change may be read after it, and must not bring the old time back.
    """
    session = facts.session
    # One round trip: what we told this participant before (NULLs when nothing), and newer session facts.
    known = await conn.fetchrow(
        "SELECT c.calendar_sequence, c.sealed_manage_url, s.session_id IS NOT NULL AS newer,"
        " s.starts_at, s.ends_at, s.room, s.titles"
        " FROM (VALUES (1)) AS one"
        " LEFT JOIN contacts c ON c.registration_id = $1"
        " LEFT JOIN sessions s ON s.session_id = $2 AND s.changed_at > $3 AND s.starts_at IS NOT NULL",
        facts.registration_id,
        session.session_id,
        told_at,
    )
    booking = Booking(
        code=facts.registration_code,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        room=session.room,
        sealed_manage_url=sealed_manage_url or known["sealed_manage_url"],
        calendar_sequence=known["calendar_sequence"] or 0,
    )
    if not known["newer"]:
        return booking
    return replace(
        booking,
        title=json.loads(known["titles"]).get(facts.participant.language, session.title),
        starts_at=known["starts_at"],
        ends_at=known["ends_at"],
        room=known["room"],
    )


# A registration only moves forward: waiting, then seated, then cancelled (for good). An event that
# would move it back, or leave it where it is, is older news or a copy, and changes nothing.
_LADDER = "coalesce(array_position(ARRAY['waitlisted', 'confirmed', 'cancelled'], {}), 0)"


async def save_contact(
    conn: asyncpg.Connection,
    facts: RegistrationFacts,
    status: str,
    booking: Booking,
    message: Outgoing,
    reminder_due: datetime | None = None,
) -> bool:
    """Record what the participant is told now, and queue `message` (and a reminder due at `reminder_due`)
    with it, in one statement; False, and nothing queued, when the registration is already at `status` or past it."""
    participant = facts.participant
    return bool(
        await conn.fetchval(
            "WITH saved AS (INSERT INTO contacts (registration_id, name, email, language, registration_code, status,"
            " session_id, session_title, starts_at, ends_at, room, sealed_manage_url, calendar_sequence)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
            " ON CONFLICT (registration_id) DO UPDATE SET name = excluded.name, email = excluded.email,"
            " language = excluded.language, registration_code = excluded.registration_code,"
            " status = excluded.status, session_id = excluded.session_id, session_title = excluded.session_title,"
            " starts_at = excluded.starts_at, ends_at = excluded.ends_at, room = excluded.room,"
            " sealed_manage_url = excluded.sealed_manage_url, calendar_sequence = excluded.calendar_sequence,"
            " updated_at = now()"
            f" WHERE {_LADDER.format('contacts.status')} < {_LADDER.format('excluded.status')}"
            " RETURNING registration_id),"
            f" {queue_after('saved', 14)}, {schedule_after('saved', 22)}"
            " SELECT EXISTS (SELECT FROM saved)",
            facts.registration_id,
            participant.name,
            str(participant.email),
            participant.language,
            booking.code,
            status,
            facts.session.session_id,
            booking.title,
            booking.starts_at,
            booking.ends_at,
            booking.room,
            booking.sealed_manage_url,
            booking.calendar_sequence,
            *message.row(),
            reminder_due,
        )
    )


async def save_session(conn: asyncpg.Connection, session: ScheduledSession, changed_at: datetime) -> bool:
    """Keep the session's facts; False when a newer event said otherwise, or it was cancelled."""
    return bool(
        await conn.fetchval(
            "INSERT INTO sessions (session_id, starts_at, ends_at, room, titles, changed_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id) DO UPDATE SET starts_at = excluded.starts_at,"
            " ends_at = excluded.ends_at, room = excluded.room, titles = excluded.titles,"
            " changed_at = excluded.changed_at WHERE NOT sessions.cancelled"
            " AND (sessions.changed_at IS NULL OR sessions.changed_at <= excluded.changed_at) RETURNING true",
            session.session_id,
            session.starts_at,
            session.ends_at,
            session.room,
            json.dumps(session.titles.model_dump()),
            changed_at,
        )
    )


async def record_voucher(
    conn: asyncpg.Connection,
    voucher_id: uuid.UUID,
    registration_id: uuid.UUID,
    code: str,
    status: str,
    message: Outgoing | None = None,
) -> bool:
    """Note the voucher `issued` or `void`, and queue `message` with it; False, and nothing queued, when that
    is no news: heard of already, or void for good."""
    noted = (
        "INSERT INTO vouchers (voucher_id, registration_id, code, status) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (voucher_id) DO UPDATE SET status = 'void'"
        " WHERE excluded.status = 'void' AND vouchers.status <> 'void' RETURNING true AS news"
    )
    if message is None:
        return bool(await conn.fetchval(noted, voucher_id, registration_id, code, status))
    return bool(
        await conn.fetchval(
            f"WITH noted AS ({noted}), {queue_after('noted', 5)} SELECT EXISTS (SELECT FROM noted)",
            voucher_id,
            registration_id,
            code,
            status,
            *message.row(),
        )
    )


async def drop_unsent_voucher_email(
    conn: asyncpg.Connection, registration_id: uuid.UUID, voucher_id: uuid.UUID
) -> None:
    """A voucher replaced before its email went out: the replacement's email is the one to send."""
    await conn.execute(
        "UPDATE messages SET status = 'cancelled' WHERE registration_id = $1 AND status = 'pending'"
        " AND context->>'voucher_id' = $2",
        registration_id,
        str(voucher_id),
    )


async def voucher_code(conn: asyncpg.Connection, voucher_id: uuid.UUID) -> str | None:
    code: str | None = await conn.fetchval("SELECT code FROM vouchers WHERE voucher_id = $1", voucher_id)
    return code


async def rebook(conn: asyncpg.Connection, session: ScheduledSession) -> list[Rebooking]:
    """Move the session's seated and waiting participants to its new facts.

    Returns only those whose time or room actually changed: a participant whose registration
    event already carried the new facts has nothing to be told.
    """
    rows = await conn.fetch(
        "SELECT * FROM contacts WHERE session_id = $1 AND status IN ('confirmed', 'waitlisted')"
        " AND (starts_at, ends_at, room) IS DISTINCT FROM ($2, $3, $4) ORDER BY registration_id FOR UPDATE",
        session.session_id,
        session.starts_at,
        session.ends_at,
        session.room,
    )
    moved = []
    for row in rows:
        before = Booking.from_contact(row)
        after = replace(
            before,
            title=getattr(session.titles, row["language"]),
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            room=session.room,
            calendar_sequence=before.calendar_sequence + 1,
        )
        await conn.execute(
            "UPDATE contacts SET session_title = $2, starts_at = $3, ends_at = $4, room = $5,"
            " calendar_sequence = $6, updated_at = now() WHERE registration_id = $1",
            row["registration_id"],
            after.title,
            after.starts_at,
            after.ends_at,
            after.room,
            after.calendar_sequence,
        )
        moved.append(Rebooking(row["registration_id"], row["status"], before, after))
    return moved


async def cancel_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO sessions (session_id, cancelled) VALUES ($1, true)"
        " ON CONFLICT (session_id) DO UPDATE SET cancelled = true",
        session_id,
    )
