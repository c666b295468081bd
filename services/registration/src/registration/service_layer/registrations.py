"""Use cases of a registration's life: the domain decides, the adapters store. Each runs in the caller's transaction.

Every time rule reads the database's clock (`database_now`), the one `take_places()` reads.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
from atelier_platform import outbox
from atelier_platform.telemetry import current_traceparent
from atelier_schemas import AttendanceRecorded, Message, RegistrationRejected
from atelier_schemas.registration import ActiveStatus, CancelledBy, RejectionReason

from .. import SOURCE
from ..adapters import registrations_sql as sql
from ..domain import REFUSAL_TEXT, Refusal, Refused
from ..domain import places as rules
from ..domain.codes import new_registration_code
from . import messages
from .manage_links import ManageLinks


@dataclass(frozen=True)
class NewRegistration:
    name: str
    email: str
    language: str
    wants_voucher: bool = False
    origin_station_id: str | None = None
    phone: str | None = None
    profile: str = "other"
    company: str | None = None
    consent_to_contact: bool = False


@dataclass(frozen=True)
class Registered:
    registration_id: uuid.UUID
    code: str
    status: ActiveStatus
    waitlist_position: int | None
    manage_token: str


@dataclass(frozen=True)
class Application:
    """One request for a place; `command_id` when it came as a Kafka command.

    `correlation_id` and `traceparent` when it is decided away from its request's context (in a batch).
    """

    session_id: uuid.UUID
    who: NewRegistration
    command_id: uuid.UUID | None = None
    correlation_id: str | None = None
    traceparent: str | None = field(default_factory=current_traceparent)


class NotConfirmed(Exception):
    """Only a confirmed registration can be checked in."""


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class LinkExpired(Exception):
    """A manage token stops working when its session has ended."""


async def register_many(
    conn: asyncpg.Connection, applications: Sequence[Application], *, links: ManageLinks
) -> list[Registered | Refusal]:
    """Give each application a seat, a place in the waiting line, or a refusal.

    Applications for one session are served in the given order. The joining rules of
    `domain.places` run inside `take_places()`, one call per session (see docs/adr/0004).
    """
    await sql.lock_people(conn, [a.who.email for a in applications])
    people: dict[uuid.UUID, list[dict[str, Any]]] = {}  # session id -> its people, in order
    asked: dict[uuid.UUID, list[int]] = {}  # session id -> their applications' indices
    tokens: dict[uuid.UUID, str] = {}
    for i, a in enumerate(applications):
        registration_id = uuid.uuid4()
        tokens[registration_id] = token = secrets.token_urlsafe(24)
        person = {
            **asdict(a.who),
            "id": str(registration_id),
            "code": new_registration_code(),
            "manage_token_hash": token_hash(token).hex(),
            "command_id": None if a.command_id is None else str(a.command_id),
        }
        people.setdefault(a.session_id, []).append(person)
        asked.setdefault(a.session_id, []).append(i)
    rows = await sql.take_places(conn, people)
    outcomes: list[Registered | Refusal] = [Refusal.UNKNOWN_SESSION] * len(applications)
    events: list[Message] = []
    correlations: list[str | None] = []
    traces: list[str | None] = []
    served = [(s, i, p) for s in sql.sorted_by_id(people) for i, p in zip(asked[s], people[s], strict=True)]
    for (session_id, i, person), row in zip(served, rows, strict=True):
        if row["outcome"] not in rules.ACTIVE:
            outcomes[i] = Refusal(row["outcome"])
            continue
        registration_id = row["registration_id"]
        registration = {**person, "id": registration_id}
        session = {**row, "id": session_id}
        url = links.sealed(registration_id, tokens[registration_id], person["language"])
        if row["outcome"] == rules.CONFIRMED:
            events.append(messages.confirmed(registration, session, url))
        else:
            events.append(messages.waitlisted(registration, session, row["waitlist_position"], url))
        correlations.append(applications[i].correlation_id)
        traces.append(applications[i].traceparent)
        outcomes[i] = Registered(
            registration_id, person["code"], row["outcome"], row["waitlist_position"], tokens[registration_id]
        )
    if events:
        await outbox.append_many(conn, events, source=SOURCE, correlation_ids=correlations, traceparents=traces)
    return outcomes


async def commands_applied(conn: asyncpg.Connection, command_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of `command_ids` that registered someone: a RegisterParticipant sent again has no further effect."""
    return await sql.commands_registered(conn, command_ids)


async def reject(
    conn: asyncpg.Connection,
    command_id: uuid.UUID,
    reason: RejectionReason,
    detail: str,
    registration_id: uuid.UUID | None = None,
) -> None:
    """A refused command's only effect: its rejection event."""
    event = RegistrationRejected(command_id=command_id, registration_id=registration_id, reason=reason, detail=detail)
    await outbox.append(conn, event, source=SOURCE)


async def reject_refused(
    conn: asyncpg.Connection, applications: Sequence[Application], outcomes: Sequence[Registered | Refusal]
) -> None:
    """The rejection events of the commands among `applications` that `register_many` refused, each under
    its own command's correlation id and trace."""
    events: list[Message] = []
    refused: list[Application] = []
    for a, o in zip(applications, outcomes, strict=True):
        if isinstance(o, Refusal) and a.command_id is not None:
            events.append(RegistrationRejected(command_id=a.command_id, reason=o.value, detail=REFUSAL_TEXT[o]))
            refused.append(a)
    if events:
        await outbox.append_many(
            conn,
            events,
            source=SOURCE,
            correlation_ids=[a.correlation_id for a in refused],
            traceparents=[a.traceparent for a in refused],
        )


async def own_registration(conn: asyncpg.Connection, registration_id: uuid.UUID, token: str) -> asyncpg.Record | None:
    """The registration, if `token` is its manage token (compared in constant time); raises LinkExpired when
    it is, but the session has ended."""
    row = await sql.registration_with_session_end(conn, registration_id)
    if row is None or row["manage_token_hash"] is None:
        return None
    if not secrets.compare_digest(row["manage_token_hash"], token_hash(token)):
        return None
    if row["session_ended"]:
        raise LinkExpired("this link stopped working when its session ended")
    return row


async def exists(conn: asyncpg.Connection, registration_id: uuid.UUID) -> bool:
    return await sql.registration(conn, registration_id) is not None


async def by_email(conn: asyncpg.Connection, email: str) -> list[asyncpg.Record]:
    """Every registration of this address (any letter case), newest first, with its session's start."""
    return await sql.registrations_of(conn, email)


async def waitlist_position(conn: asyncpg.Connection, registration: asyncpg.Record) -> int | None:
    return await sql.waitlist_position(conn, registration)


async def cancel(
    conn: asyncpg.Connection,
    registration_id: uuid.UUID,
    *,
    by: CancelledBy,
    reason: str | None = None,
) -> bool:
    """Cancel one registration; a freed seat goes to the first in line. False if already cancelled."""
    session = await sql.lock_session_of(conn, registration_id)
    if session is None:
        raise Refused(Refusal.UNKNOWN_REGISTRATION)
    registration = await sql.lock_registration(conn, registration_id)
    if registration["status"] == rules.CANCELLED:
        return False
    refusal = rules.refusal_to_leave(by, session["starts_at"], await sql.database_now(conn))
    if refusal is not None:
        raise Refused(refusal)
    await _cancel_locked(conn, [registration], session, by=by, reason=reason)
    if registration["status"] == rules.CONFIRMED:
        session = await sql.move_counters(conn, session["id"], seats=-1)
        await promote_waiting(conn, session)
    else:
        await sql.move_counters(conn, session["id"], waiting=-1)
    return True


async def _cancel_locked(
    conn: asyncpg.Connection,
    registrations: list[asyncpg.Record],
    session: asyncpg.Record,
    *,
    by: CancelledBy,
    reason: str | None,
) -> None:
    await sql.mark_cancelled(conn, [r["id"] for r in registrations], by=by, reason=reason)
    events = [messages.cancelled(r, session, by=by, reason=reason, previous=r["status"]) for r in registrations]
    if events:
        await outbox.append_many(conn, events, source=SOURCE)


async def cancel_all(conn: asyncpg.Connection, session: asyncpg.Record, reason: str) -> int:
    """The organiser cancelled the session (row locked by the caller): every registration goes, each with its event."""
    active = await sql.lock_active_of_session(conn, session["id"])
    await _cancel_locked(conn, active, session, by="organiser", reason=reason)
    seated = sum(r["status"] == rules.CONFIRMED for r in active)
    await sql.move_counters(conn, session["id"], seats=-seated, waiting=seated - len(active))
    return len(active)


async def promote_waiting(conn: asyncpg.Connection, session: asyncpg.Record) -> int:
    """Give free seats to the first in line (session row locked by the caller); returns how many moved up."""
    moving = rules.seats_to_give(
        session["status"],
        session["starts_at"],
        await sql.database_now(conn),
        session["capacity"],
        session["seats_taken"],
        session["waiting"],
    )
    if not moving:
        return 0
    promoted = await sql.confirm_first_in_line(conn, session["id"], moving)
    session = await sql.move_counters(conn, session["id"], seats=len(promoted), waiting=-len(promoted))
    await outbox.append_many(conn, [messages.promoted(r, session) for r in promoted], source=SOURCE)
    return len(promoted)


async def check_in(conn: asyncpg.Connection, code: str) -> tuple[asyncpg.Record, bool]:
    """Record attendance once; returns the registration and whether this call recorded it."""
    registration = await sql.lock_by_code(conn, code)
    if registration is None:
        raise Refused(Refusal.UNKNOWN_REGISTRATION)
    problem = rules.check_in_refusal(registration["status"])
    if problem:
        raise NotConfirmed(problem)
    if registration["attended_at"] is not None:
        return registration, False
    registration = await sql.mark_attended(conn, registration["id"])
    await outbox.append(
        conn,
        AttendanceRecorded(
            registration_id=registration["id"],
            session_id=registration["session_id"],
            attended_at=registration["attended_at"],
        ),
        source=SOURCE,
    )
    return registration, True
