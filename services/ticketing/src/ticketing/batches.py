"""What ticketing does around each batch of events it applies, in the batch's transaction."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
from atelier_platform.anonymise import late_events_scrubbed
from atelier_platform.consumer import AroundBatch
from atelier_platform.stretches import by_stretches
from atelier_schemas import (
    Message,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    SessionCancelled,
    SessionChanged,
    SessionScheduled,
)

from . import erasure, issuing, session_dates, vouchers


def session_changed_by(payload: Message) -> uuid.UUID | None:
    """The session whose day or vouchers the event's handler changes, if any (see handlers)."""
    if isinstance(payload, SessionScheduled | SessionChanged):
        return payload.session.session_id
    if isinstance(payload, SessionCancelled):
        return payload.session_id
    return None


def session_issuing_for(payload: Message) -> uuid.UUID | None:
    """The session whose day the event's handler reads to issue a voucher, if any (see handlers)."""
    if isinstance(payload, RegistrationConfirmed | RegistrationPromoted) and payload.wants_voucher:
        return payload.session.session_id
    return None


def registration_locked_by(payload: Message) -> uuid.UUID | None:
    """The registration whose lock the event's handler needs, if any (see handlers)."""
    if isinstance(payload, RegistrationConfirmed | RegistrationPromoted):
        return payload.registration_id if payload.wants_voucher else None
    if isinstance(payload, RegistrationCancelled):
        return payload.registration_id
    return None


def around_batch() -> AroundBatch:
    """Every session lock the batch's handlers need, all at once (see session_dates.lock_sessions); then
    every registration lock; then the erasure guard (late events scrubbed); then the admissions' vouchers
    issued by stretches (issuing.Issuing).

    A batch holds its locks until it commits. Taken event by event, two batches naming the same
    sessions in another order each held one the other waited for: Postgres broke about twenty such
    deadlocks in one `make bench`, a second each and the batch done again. Taken here, they also
    cost one statement per batch instead of two per voucher.
    """
    late_events = late_events_scrubbed(erasure.scrub)

    @contextlib.asynccontextmanager
    async def around(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AsyncIterator[None]:
        await session_dates.lock_sessions(
            conn,
            changing={s for p in payloads if (s := session_changed_by(p)) is not None},
            issuing={s for p in payloads if (s := session_issuing_for(p)) is not None},
        )
        await vouchers.lock_registrations(conn, {r for p in payloads if (r := registration_locked_by(p)) is not None})
        # The last stretch's vouchers are written before the late events' scrub reads the outbox.
        async with late_events(conn, payloads), by_stretches(conn, issuing.Issuing(payloads)):
            yield

    return around
