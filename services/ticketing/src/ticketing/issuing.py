"""A batch's vouchers issued by stretches: what decides the vouchers of a stretch read in one statement, and
the stretch's vouchers written in one, instead of two statements each.

A stretch is a run of admissions in the batch, each of another registration: no handler in it changes
what another's voucher depends on. Any other event (a cancellation, session news, an erasure) and a
second admission of a registration end the stretch: the vouchers issued so far are written before it
is handled, and what decides the next admissions is read again after it. So every batch gives what
its events would give one by one. A registration's first voucher stays unique by its index, as before.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import asyncpg
from atelier_platform.consumer import Handler, Handlers
from atelier_platform.errors import EarlierEventsFailed, is_transient
from atelier_platform.metrics import VOUCHERS
from atelier_schemas import CloudEvent, Message, RegistrationConfirmed, RegistrationPromoted

from . import vouchers

Admission = RegistrationConfirmed | RegistrationPromoted


@dataclass
class Stretches:
    stretch_of: dict[int, list[Admission]]  # id() of each admission of the batch: its stretch
    reading: list[Admission] | None = None  # the stretch `known` was read for
    known: dict[uuid.UUID, asyncpg.Record] = field(default_factory=dict)  # what decides its vouchers (as_of)
    issuing: list[vouchers.Issuing] = field(default_factory=list)  # not yet written

    async def known_for(self, conn: asyncpg.Connection, admitted: Admission) -> asyncpg.Record:
        """What decides `admitted`'s voucher, read with the rest of its stretch when the stretch begins."""
        stretch = self.stretch_of[id(admitted)]
        if stretch is not self.reading:
            await self.write(conn)
            asking = [
                (a.registration_id, a.session.session_id, a.origin_station_id) for a in stretch if a.wants_voucher
            ]
            rows = await vouchers.known_before_issuing(conn, asking)
            self.reading, self.known = stretch, {a[0]: row for a, row in zip(asking, rows, strict=True)}
        return self.known[admitted.registration_id]

    async def write(self, conn: asyncpg.Connection) -> None:
        """The vouchers issued so far, in their order. Their failure for good is not the event being handled's:
        the consumer then tries each record alone."""
        if self.issuing:
            try:
                kept = await vouchers.insert(conn, self.issuing)
            except Exception as exc:
                if is_transient(exc):
                    raise
                raise EarlierEventsFailed(f"writing the vouchers issued in this batch: {exc}") from exc
            VOUCHERS.labels("issued").inc(kept)
            self.issuing = []


_batch: ContextVar[Stretches | None] = ContextVar("ticketing_issuing_stretches", default=None)


def stretches() -> Stretches:
    """The batch being applied: events are handled only inside `by_stretches` (batches.around_batch)."""
    batch = _batch.get()
    if batch is None:
        raise RuntimeError("an event handled outside a batch: consume with ticketing's around_batch")
    return batch


def _cut(payloads: Sequence[Message]) -> dict[int, list[Admission]]:
    stretch_of: dict[int, list[Admission]] = {}
    stretch: list[Admission] = []
    registrations: set[uuid.UUID] = set()
    for payload in payloads:
        if not isinstance(payload, Admission) or payload.registration_id in registrations:
            stretch, registrations = [], set()
        if isinstance(payload, Admission):
            stretch.append(payload)
            registrations.add(payload.registration_id)
            stretch_of[id(payload)] = stretch
    return stretch_of


@contextlib.asynccontextmanager
async def by_stretches(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AsyncIterator[None]:
    """Around a batch's handlers, inside its locks: its admissions' vouchers issued by stretches, the last
    ones written when the handlers are done."""
    batch = Stretches(_cut(payloads))
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    await batch.write(conn)


def after_vouchers_written(handlers: Handlers) -> Handlers:
    """Every handler but the admissions' first writes the vouchers the batch issued before its event."""

    def written_first(handler: Handler) -> Handler:
        async def handle(conn: asyncpg.Connection, event: CloudEvent, payload: Message) -> None:
            await stretches().write(conn)
            await handler(conn, event, payload)

        return handle

    return {kind: h if issubclass(kind, Admission) else written_first(h) for kind, h in handlers.items()}
