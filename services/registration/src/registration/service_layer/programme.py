"""Use cases of the programme: workshops, their sessions and coaching slots. Each runs in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from atelier_platform import outbox
from atelier_schemas import SessionCancelled, SessionChanged, SessionScheduled

from .. import SOURCE
from ..adapters import programme_sql as sql
from ..domain import coaching_titles
from ..domain import places as rules
from . import messages, registrations


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


@dataclass(frozen=True)
class SessionFilter:
    date_from: date | None = None
    date_to: date | None = None
    topic: str | None = None
    language: str | None = None
    with_seats_left: bool = False


async def create_workshop(conn: asyncpg.Connection, workshop: Workshop) -> asyncpg.Record:
    return await sql.insert(conn, "workshops", asdict(workshop))


async def change_workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID, changes: dict[str, Any]) -> asyncpg.Record:
    row = await sql.update_row(conn, "workshops", workshop_id, changes)
    if row is None:
        raise NotFound(f"workshop {workshop_id} does not exist")
    return row


async def _workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID) -> asyncpg.Record:
    row = await sql.workshop(conn, workshop_id)
    if row is None:
        raise NotFound(f"workshop {workshop_id} does not exist")
    return row


async def schedule_session(conn: asyncpg.Connection, workshop_id: uuid.UUID, plan: SessionPlan) -> asyncpg.Record:
    workshop = await _workshop(conn, workshop_id)
    titles = {k: workshop[k] for k in ("title_fr", "title_nl", "title_en")}
    return await _insert_session(
        conn, plan, workshop_id=workshop_id, kind="workshop", topic=workshop["topic"], coach=None, **titles
    )


async def schedule_coaching(conn: asyncpg.Connection, coach: str, plan: SessionPlan) -> asyncpg.Record:
    return await _insert_session(
        conn, plan, workshop_id=None, kind="coaching", topic="other", coach=coach, **coaching_titles(coach)
    )


async def _insert_session(conn: asyncpg.Connection, plan: SessionPlan, **fields: Any) -> asyncpg.Record:
    session = await sql.insert(conn, "sessions", {**fields, **asdict(plan)})
    await outbox.append(conn, SessionScheduled(session=messages.scheduled_session(session)), source=SOURCE)
    return session


async def change_session(conn: asyncpg.Connection, session_id: uuid.UUID, changes: dict[str, Any]) -> asyncpg.Record:
    """New time, room or capacity. More seats go to the waiting line at once."""
    before = await sql.lock_session(conn, session_id)
    if before is None:
        raise NotFound(f"session {session_id} does not exist")
    problem = rules.change_conflict(
        before["status"],
        before["seats_taken"],
        starts_at=changes.get("starts_at", before["starts_at"]),
        ends_at=changes.get("ends_at", before["ends_at"]),
        capacity=changes.get("capacity", before["capacity"]),
    )
    if problem:
        raise ProgrammeConflict(problem)
    session = await sql.update_row(conn, "sessions", session_id, changes)
    await outbox.append(
        conn,
        SessionChanged(
            session=messages.scheduled_session(session),
            previous_starts_at=before["starts_at"],
            previous_room=before["room"],
        ),
        source=SOURCE,
    )
    await registrations.promote_waiting(conn, session)
    return session


async def cancel_session(conn: asyncpg.Connection, session_id: uuid.UUID, reason: str) -> int:
    """Cancel the session and every registration in it; returns how many registrations were cancelled."""
    session = await sql.mark_session_cancelled(conn, session_id, reason)
    if session is None:
        if not await sql.session_exists(conn, session_id):
            raise NotFound(f"session {session_id} does not exist")
        raise ProgrammeConflict("the session is already cancelled")
    await outbox.append(conn, SessionCancelled(session_id=session_id, reason=reason), source=SOURCE)
    return await registrations.cancel_all(conn, session, reason)


async def cancel_workshop(conn: asyncpg.Connection, workshop_id: uuid.UUID, reason: str) -> int:
    """Withdraw a workshop: every session of it still to come is cancelled; returns how many."""
    await _workshop(conn, workshop_id)
    upcoming = await sql.lock_upcoming_sessions_of(conn, workshop_id)
    for session_id in upcoming:
        await cancel_session(conn, session_id, reason)
    return len(upcoming)


async def list_sessions(pool: asyncpg.Pool, f: SessionFilter) -> list[asyncpg.Record]:
    """Upcoming scheduled sessions matching the filter, soonest first."""
    return await sql.list_sessions(pool, **asdict(f))


async def session_by_id(pool: asyncpg.Pool, session_id: uuid.UUID) -> asyncpg.Record | None:
    """One session, whatever its status or time, with its seats left and waiting line."""
    return await sql.session_by_id(pool, session_id)
