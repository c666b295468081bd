"""A batch of admissions alone, each of another registration: its vouchers decided on one read and written in
one pipeline, instead of two statements each.

In such a batch no handler changes what another's voucher depends on (no cancellation, no session
news, no second event of a registration), so what decides every voucher is read once, after the
batch's locks, and the vouchers wait to be written together when the handlers are done. Any other
batch is applied event by event. A registration's first voucher stays unique by its index, as before.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import asyncpg
from atelier_platform import outbox
from atelier_platform.metrics import VOUCHERS
from atelier_schemas import Message, RegistrationConfirmed, RegistrationPromoted, TicketIssued

from . import vouchers


@dataclass
class Together:
    known: dict[uuid.UUID, asyncpg.Record]  # what decides each registration's voucher (vouchers.as_of)
    issuing: list[tuple[TicketIssued, uuid.UUID, outbox.Row]] = field(default_factory=list)  # to write at the end


_batch: ContextVar[Together | None] = ContextVar("ticketing_issuing_together", default=None)


def together() -> Together | None:
    """The batch being applied, when its vouchers are issued together."""
    return _batch.get()


@contextlib.asynccontextmanager
async def admissions_together(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AsyncIterator[None]:
    """Around a batch's handlers, inside its locks: for a batch of admissions alone, each of another registration,
    what decides their vouchers read first, and the vouchers written once the handlers are done."""
    admitted = [p for p in payloads if isinstance(p, RegistrationConfirmed | RegistrationPromoted)]
    if len(admitted) < len(payloads) or len({p.registration_id for p in admitted}) < len(admitted):
        yield
        return
    asking = [(p.registration_id, p.session.session_id, p.origin_station_id) for p in admitted if p.wants_voucher]
    known = await vouchers.known_before_issuing(conn, asking) if asking else []
    batch = Together({registration_id: row for (registration_id, _, _), row in zip(asking, known, strict=True)})
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    VOUCHERS.labels("issued").inc(await vouchers.insert_first(conn, batch.issuing))
