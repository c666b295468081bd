"""A batch's vouchers issued by stretches (`atelier_platform.stretches`): what decides the vouchers of a
stretch read in one statement, and the stretch's vouchers written in one, instead of two statements each.

A stretch is a run of admissions in the batch, each of another registration: no handler in it changes
what another's voucher depends on. Any other event (a cancellation, session news, an erasure) and a
second admission of a registration end the stretch. A registration's first voucher stays unique by its
index, as before.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar

import asyncpg
from atelier_platform.metrics import VOUCHERS
from atelier_platform.stretches import Stretches
from atelier_schemas import Message, RegistrationConfirmed, RegistrationPromoted

from . import vouchers

Admission = RegistrationConfirmed | RegistrationPromoted


class Issuing(Stretches[Admission]):
    kinds: ClassVar[tuple[type[Message], ...]] = (RegistrationConfirmed, RegistrationPromoted)

    def __init__(self, payloads: Sequence[Message]) -> None:
        super().__init__(payloads)
        self.known: dict[uuid.UUID, asyncpg.Record] = {}  # what decides the stretch's vouchers (as_of)
        self.issuing: list[vouchers.Issuing] = []  # not yet written

    def key(self, payload: Admission) -> uuid.UUID:
        return payload.registration_id

    async def known_for(self, conn: asyncpg.Connection, admitted: Admission) -> asyncpg.Record:
        """What decides `admitted`'s voucher, read with the rest of its stretch when the stretch begins."""
        if stretch := await self.begun(conn, admitted):
            asking = [
                (a.registration_id, a.session.session_id, a.origin_station_id) for a in stretch if a.wants_voucher
            ]
            rows = await vouchers.known_before_issuing(conn, asking)
            self.known = {a[0]: row for a, row in zip(asking, rows, strict=True)}
        return self.known[admitted.registration_id]

    async def flush(self, conn: asyncpg.Connection) -> None:
        VOUCHERS.labels("issued").inc(await vouchers.insert(conn, self.issuing))
        self.issuing = []
