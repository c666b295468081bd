"""Use cases: each is one transaction that changes state and appends its events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from atelier_platform import outbox
from atelier_schemas import Participant, RegistrationConfirmed, SessionInfo

from . import SOURCE
from .codes import new_registration_code


class SessionNotFound(Exception):
    pass


class SessionFull(Exception):
    pass


class AlreadyRegistered(Exception):
    pass


@dataclass(frozen=True)
class NewSession:
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    language: str
    capacity: int


@dataclass(frozen=True)
class NewRegistration:
    name: str
    email: str
    language: str
    wants_voucher: bool
    origin_station_id: str | None


async def schedule_session(pool: asyncpg.Pool, new: NewSession) -> uuid.UUID:
    session_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO sessions (id, title, starts_at, ends_at, room, language, capacity)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        session_id,
        new.title,
        new.starts_at,
        new.ends_at,
        new.room,
        new.language,
        new.capacity,
    )
    return session_id


async def register(pool: asyncpg.Pool, session_id: uuid.UUID, new: NewRegistration) -> tuple[uuid.UUID, str]:
    """Take a seat and record the registration and its event, all or nothing."""
    async with pool.acquire() as conn, conn.transaction():
        # One conditional UPDATE: the row lock serialises concurrent takers,
        # so seats_taken can never pass capacity.
        session = await conn.fetchrow(
            "UPDATE sessions SET seats_taken = seats_taken + 1 WHERE id = $1 AND seats_taken < capacity RETURNING *",
            session_id,
        )
        if session is None:
            exists = await conn.fetchval("SELECT true FROM sessions WHERE id = $1", session_id)
            raise SessionFull() if exists else SessionNotFound()
        registration_id, code = uuid.uuid4(), new_registration_code()
        try:
            await conn.execute(
                "INSERT INTO registrations (id, code, session_id, name, email, language,"
                " wants_voucher, origin_station_id, status)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'confirmed')",
                registration_id,
                code,
                session_id,
                new.name,
                new.email,
                new.language,
                new.wants_voucher,
                new.origin_station_id,
            )
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyRegistered() from exc
        await outbox.append(
            conn,
            RegistrationConfirmed(
                registration_id=registration_id,
                registration_code=code,
                session=SessionInfo(
                    session_id=session_id,
                    title=session["title"],
                    starts_at=session["starts_at"],
                    ends_at=session["ends_at"],
                    room=session["room"],
                    language=session["language"],
                ),
                participant=Participant(name=new.name, email=new.email, language=new.language),
                wants_voucher=new.wants_voucher,
                origin_station_id=new.origin_station_id,
            ),
            source=SOURCE,
        )
    return registration_id, code
