"""The programme: workshops, their sessions and coaching slots. Runs inside the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import asyncpg
from atelier_platform import outbox
from atelier_schemas import SessionCancelled, SessionChanged, SessionScheduled

from . import SOURCE, events, registrations
from .domain import BRUSSELS, coaching_titles


class ProgrammeConflict(Exception):
    """An admin change that would break a rule (e.g. fewer seats than people holding one)."""


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class Workshop:
    topic: str
    title_fr: str
    title_nl: str
    title_en: str
    description_fr: str
    description_nl: str
    description_en: str
    duration_minutes: int


@dataclass(frozen=True)
class SessionPlan:
    starts_at: datetime
    ends_at: datetime
    room: str
    language: str
    capacity: int


async def create_workshop(conn: asyncpg.Connection, workshop: Workshop) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO workshops (id, topic, title_fr, title_nl, title_en, description_fr, description_nl,"
        " description_en, duration_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        uuid.uuid4(),
        workshop.topic,
        workshop.title_fr,
        workshop.title_nl,
        workshop.title_en,
        workshop.description_fr,
        workshop.description_nl,
        workshop.description_en,
        workshop.duration_minutes,
    )


async def _update_row(conn: asyncpg.Connection, table: str, row_id: uuid.UUID, changes: dict) -> asyncpg.Record | None:
    """Set the changed columns (names come from the API's validated models, never from raw input)."""
    if not changes:
        return await conn.fetchrow(f"SELECT * FROM {table} WHERE id = $1", row_id)
    assignments = ", ".join(f"{column} = ${i}" for i, column in enumerate(changes, start=2))
    return await conn.fetchrow(f"UPDATE {table} SET {assignments} WHERE id = $1 RETURNING *", row_id, *changes.values())


async def change_workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID, changes: dict) -> asyncpg.Record:
    row = await _update_row(conn, "workshops", workshop_id, changes)
    if row is None:
        raise NotFound(f"workshop {workshop_id} does not exist")
    return row


async def _workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM workshops WHERE id = $1", workshop_id)
    if row is None:
        raise NotFound(f"workshop {workshop_id} does not exist")
    return row


async def schedule_session(conn: asyncpg.Connection, workshop_id: uuid.UUID, plan: SessionPlan) -> asyncpg.Record:
    workshop = await _workshop(conn, workshop_id)
    return await _insert_session(
        conn,
        plan,
        workshop_id=workshop_id,
        kind="workshop",
        topic=workshop["topic"],
        coach=None,
        titles={k: workshop[k] for k in ("title_fr", "title_nl", "title_en")},
    )


async def schedule_coaching(conn: asyncpg.Connection, coach: str, plan: SessionPlan) -> asyncpg.Record:
    return await _insert_session(
        conn, plan, workshop_id=None, kind="coaching", topic="other", coach=coach, titles=coaching_titles(coach)
    )


async def _insert_session(
    conn: asyncpg.Connection, plan: SessionPlan, *, workshop_id, kind, topic, coach, titles
) -> asyncpg.Record:
    session = await conn.fetchrow(
        "INSERT INTO sessions (id, workshop_id, kind, topic, coach, title_fr, title_nl, title_en,"
        " starts_at, ends_at, room, language, capacity)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *",
        uuid.uuid4(),
        workshop_id,
        kind,
        topic,
        coach,
        titles["title_fr"],
        titles["title_nl"],
        titles["title_en"],
        plan.starts_at,
        plan.ends_at,
        plan.room,
        plan.language,
        plan.capacity,
    )
    await outbox.append(conn, SessionScheduled(session=events.scheduled_session(session)), source=SOURCE)
    return session


async def change_session(conn: asyncpg.Connection, session_id: uuid.UUID, changes: dict) -> asyncpg.Record:
    """New time, room or capacity. More seats go to the waiting line at once."""
    before = await conn.fetchrow("SELECT * FROM sessions WHERE id = $1 FOR UPDATE", session_id)
    if before is None:
        raise NotFound(f"session {session_id} does not exist")
    if before["status"] == "cancelled":
        raise ProgrammeConflict("a cancelled session cannot be changed")
    starts_at = changes.get("starts_at", before["starts_at"])
    if changes.get("ends_at", before["ends_at"]) <= starts_at:
        raise ProgrammeConflict("ends_at must be after starts_at")
    if changes.get("capacity", before["capacity"]) < before["seats_taken"]:
        raise ProgrammeConflict(f"{before['seats_taken']} people hold a seat: capacity cannot go below that")
    session = await _update_row(conn, "sessions", session_id, changes)
    await outbox.append(
        conn,
        SessionChanged(
            session=events.scheduled_session(session),
            previous_starts_at=before["starts_at"],
            previous_room=before["room"],
        ),
        source=SOURCE,
    )
    await registrations.promote_waiting(conn, session)
    return session


async def cancel_session(conn: asyncpg.Connection, session_id: uuid.UUID, reason: str) -> int:
    """Cancel the session and every registration in it; returns how many registrations were cancelled."""
    session = await conn.fetchrow(
        "UPDATE sessions SET status = 'cancelled', cancel_reason = $2 WHERE id = $1 AND status = 'scheduled'"
        " RETURNING *",
        session_id,
        reason,
    )
    if session is None:
        exists = await conn.fetchval("SELECT true FROM sessions WHERE id = $1", session_id)
        if not exists:
            raise NotFound(f"session {session_id} does not exist")
        raise ProgrammeConflict("the session is already cancelled")
    await outbox.append(conn, SessionCancelled(session_id=session_id, reason=reason), source=SOURCE)
    return await registrations.cancel_all(conn, session, reason)


async def cancel_workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID, reason: str) -> int:
    """Withdraw a workshop: every session of it still to come is cancelled; returns how many."""
    await _workshop(conn, workshop_id)
    upcoming = await conn.fetch(
        "SELECT id FROM sessions WHERE workshop_id = $1 AND status = 'scheduled' AND starts_at > now()"
        " ORDER BY starts_at",
        workshop_id,
    )
    for session in upcoming:
        await cancel_session(conn, session["id"], reason)
    return len(upcoming)


@dataclass(frozen=True)
class SessionFilter:
    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None
    language: str | None = None
    with_seats_left: bool = False


async def session_by_id(pool: asyncpg.Pool, session_id: uuid.UUID) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT *, capacity - seats_taken AS seats_left, waiting AS waitlist_length FROM sessions WHERE id = $1",
        session_id,
    )


async def list_sessions(pool: asyncpg.Pool, f: SessionFilter) -> list[asyncpg.Record]:
    """Upcoming scheduled sessions matching the filter, soonest first."""
    start = datetime.combine(f.date_from, time(), BRUSSELS) if f.date_from else None
    end = datetime.combine(f.date_to + timedelta(days=1), time(), BRUSSELS) if f.date_to else None
    return await pool.fetch(
        "SELECT *, capacity - seats_taken AS seats_left, waiting AS waitlist_length FROM sessions"
        " WHERE status = 'scheduled' AND ends_at > now()"
        " AND ($1::timestamptz IS NULL OR starts_at >= $1) AND ($2::timestamptz IS NULL OR starts_at < $2)"
        " AND ($3::text IS NULL OR (CASE WHEN kind = 'coaching' THEN 'coaching' ELSE topic END) = $3)"
        " AND ($4::text IS NULL OR language = $4)"
        " AND (NOT $5 OR seats_taken < capacity)"
        " ORDER BY starts_at LIMIT 500",
        start,
        end,
        f.topic,
        f.language,
        f.with_seats_left,
    )
