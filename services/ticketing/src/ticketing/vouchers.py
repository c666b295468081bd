"""The vouchers table and what ticketing remembers about each registration."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import asyncpg
from atelier_platform import locks, outbox
from atelier_schemas import TicketIssued

from .stations import Station

RejectionReason = Literal["no_origin_station", "unknown_station"]  # why a registration got no voucher

_REGISTRATION_LOCKS = locks.TICKETING_REGISTRATION


async def lock_registration(conn: asyncpg.Connection, registration_id: uuid.UUID) -> None:
    """Until the transaction ends, no other event of this registration is applied.

    Events of one registration normally arrive in order on one partition, but a rebalance can
    hand a confirmation and a cancellation to two consumers at once; without the lock each
    would miss the other's uncommitted row and a cancelled registration could keep a voucher.
    """
    await lock_registrations(conn, {registration_id})


async def lock_registrations(conn: asyncpg.Connection, registration_ids: set[uuid.UUID]) -> None:
    """`lock_registration` for each, in one statement and one order: what a batch's events need, before its
    handlers (batches.around_batch)."""
    await locks.lock_all(conn, _REGISTRATION_LOCKS, [str(registration_id) for registration_id in registration_ids])


@dataclass(frozen=True)
class BeforeIssuing:
    """What decides whether a newly seated registration gets its voucher, and for which day and station."""

    cancelled: bool  # the registration was cancelled (its event may have been read first)
    has_voucher: bool
    session_cancelled: bool
    newer_start: datetime | None  # the session's start, when catalog.events said something after the seat
    origin: Station | None  # None: no such station


Asking = tuple[uuid.UUID, uuid.UUID, str | None]  # a registration, its session, its origin station id


async def before_issuing(
    conn: asyncpg.Connection,
    registration_id: uuid.UUID,
    session_id: uuid.UUID,
    told_at: datetime,
    origin_id: str | None,
) -> BeforeIssuing:
    """One round trip, under the session's and the registration's locks (taken before: a statement's
    snapshot is taken when it starts, so it would not see what the lock waited for)."""
    [known] = await known_before_issuing(conn, [(registration_id, session_id, origin_id)])
    return as_of(known, told_at)


async def known_before_issuing(conn: asyncpg.Connection, asking: list[Asking]) -> list[asyncpg.Record]:
    """What decides each of these registrations' vouchers, in their order, in one statement; `as_of` reads it."""
    registration_ids, session_ids, origin_ids = (list(column) for column in zip(*asking, strict=True))
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT EXISTS (SELECT FROM cancelled_registrations c WHERE c.registration_id = r.id) AS cancelled,"
        " EXISTS (SELECT FROM vouchers v WHERE v.registration_id = r.id) AS has_voucher,"
        " d.session_id IS NOT NULL AS session_known, d.cancelled AS session_cancelled, d.starts_at, d.changed_at,"
        " s.id AS station_id, s.name_fr, s.name_nl"
        " FROM unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS r(id, session_id, origin_id, n)"
        " LEFT JOIN session_dates d ON d.session_id = r.session_id"
        " LEFT JOIN stations s ON s.id = r.origin_id ORDER BY r.n",
        registration_ids,
        session_ids,
        origin_ids,
    )
    return rows


def as_of(known: asyncpg.Record, told_at: datetime) -> BeforeIssuing:
    """`known` for an event written at `told_at`: the session's day only if the catalogue said it after."""
    newer = known["session_known"] and (known["changed_at"] > told_at or known["session_cancelled"])
    return BeforeIssuing(
        cancelled=known["cancelled"],
        has_voucher=known["has_voucher"],
        session_cancelled=bool(known["session_cancelled"]),
        newer_start=known["starts_at"] if newer else None,
        origin=None
        if known["station_id"] is None
        else Station(known["station_id"], known["name_fr"], known["name_nl"]),
    )


async def record_cancellation(conn: asyncpg.Connection, registration_id: uuid.UUID, cancelled_by: str) -> None:
    await conn.execute(
        "INSERT INTO cancelled_registrations (registration_id, cancelled_by) VALUES ($1, $2)"
        " ON CONFLICT (registration_id) DO NOTHING",
        registration_id,
        cancelled_by,
    )


async def insert(conn: asyncpg.Connection, voucher: TicketIssued, session_id: uuid.UUID, announced: outbox.Row) -> bool:
    """False when the registration already has its first voucher: the unique index is the last line.
    `announced`, the voucher's TicketIssued (`outbox.row_for`), is appended by the same statement when
    the voucher is new.

    A replacement is made under the registration's lock, right after voiding the voucher it replaces;
    a second one would break `replaces`' unique constraint, and that is a bug, not a duplicate.
    """
    statement = _insert_statement(first=voucher.replaces is None)
    return bool(await conn.fetchval(statement, *_insert_arguments(voucher, session_id, announced)))


async def insert_first(conn: asyncpg.Connection, issuing: list[tuple[TicketIssued, uuid.UUID, outbox.Row]]) -> int:
    """`insert` for each of these first vouchers, in their order, in one round trip (a pipeline); how many were new."""
    if not issuing:
        return 0
    await conn.executemany(_insert_statement(first=True), [_insert_arguments(*voucher) for voucher in issuing])
    new: int = await conn.fetchval(
        "SELECT count(*) FROM vouchers WHERE id = ANY($1::uuid[])", [voucher.voucher_id for voucher, _, _ in issuing]
    )
    return new


def _insert_statement(*, first: bool) -> str:
    """A registration's first voucher may lose to one already there; a replacement may not (see `insert`)."""
    on_conflict = " ON CONFLICT (registration_id) WHERE replaces IS NULL DO NOTHING" if first else ""
    issued = (
        "issued AS (INSERT INTO vouchers (id, registration_id, code, holder_name, origin_station_id, origin_name_fr,"
        " origin_name_nl, valid_on, price_eur, status, session_id, replaces)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'issued', $10, $11)" + on_conflict + " RETURNING true)"
    )
    announced = outbox.append_after(12, when="EXISTS (SELECT FROM issued)")
    return f"WITH {issued}, {announced} SELECT EXISTS (SELECT FROM issued)"


def _insert_arguments(voucher: TicketIssued, session_id: uuid.UUID, announced: outbox.Row) -> tuple[object, ...]:
    return (
        voucher.voucher_id,
        voucher.registration_id,
        voucher.code,
        voucher.holder_name,
        voucher.origin_station_id,
        voucher.origin_name_fr,
        voucher.origin_name_nl,
        voucher.valid_on,
        voucher.price_eur,
        session_id,
        voucher.replaces,
        *announced,
    )


async def void(
    conn: asyncpg.Connection, registration_id: uuid.UUID, reason: str, unless_valid_on: date | None = None
) -> asyncpg.Record | None:
    """Void the registration's issued voucher (unless it is already valid on `unless_valid_on`);
    the voucher, or None when there was none to void."""
    return await conn.fetchrow(
        "UPDATE vouchers SET status = 'void', voided_at = now(), void_reason = $2"
        " WHERE registration_id = $1 AND status = 'issued' AND valid_on IS DISTINCT FROM $3 RETURNING *",
        registration_id,
        reason,
        unless_valid_on,
    )


async def issued_for_session(conn: asyncpg.Connection, session_id: uuid.UUID) -> list[asyncpg.Record]:
    """The session's vouchers still to be used, in registration order (the order their locks are taken)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT registration_id FROM vouchers WHERE session_id = $1 AND status = 'issued' ORDER BY registration_id",
        session_id,
    )
    return rows


async def record_rejection(
    conn: asyncpg.Connection, registration_id: uuid.UUID, origin_station_id: str | None, reason: str
) -> bool:
    """False when this registration was already refused a voucher."""
    return bool(
        await conn.fetchval(
            "INSERT INTO voucher_rejections (registration_id, origin_station_id, reason) VALUES ($1, $2, $3)"
            " ON CONFLICT (registration_id) DO NOTHING RETURNING true",
            registration_id,
            origin_station_id,
            reason,
        )
    )


async def by_code(
    conn: asyncpg.Connection | asyncpg.Pool, code: str, *, for_update: bool = False
) -> asyncpg.Record | None:
    """`for_update` locks the row until the transaction ends, so two scans at once are told apart."""
    return await conn.fetchrow(
        "SELECT id, registration_id, code, status, holder_name, origin_station_id, origin_name_fr,"
        " origin_name_nl, valid_on, used_at FROM vouchers WHERE code = $1" + (" FOR UPDATE" if for_update else ""),
        code,
    )


async def of_registration(
    pool: asyncpg.Pool, registration_id: uuid.UUID
) -> tuple[asyncpg.Record | None, RejectionReason | None]:
    """The registration's current voucher (the last of its replacements), else why it has none (a rejection
    reason), else (None, None): not yet."""
    voucher = await pool.fetchrow(
        "SELECT code, status, holder_name, origin_station_id, origin_name_fr, origin_name_nl, valid_on, void_reason"
        " FROM vouchers v WHERE registration_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM vouchers newer WHERE newer.replaces = v.id)",
        registration_id,
    )
    if voucher is not None:
        return voucher, None
    reason: RejectionReason | None = await pool.fetchval(
        "SELECT reason FROM voucher_rejections WHERE registration_id = $1", registration_id
    )
    return None, reason


async def mark_used(conn: asyncpg.Connection, voucher_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE vouchers SET status = 'used', used_at = $2 WHERE id = $1", voucher_id, at)
