"""The vouchers table and what ticketing remembers about each registration."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
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


async def known_before_issuing(conn: asyncpg.Connection, asking: list[Asking]) -> list[asyncpg.Record]:
    """What decides each of these registrations' vouchers, in their order, in one statement; `as_of` reads it.
    Under the sessions' and the registrations' locks, taken before: a statement's snapshot is taken when it
    starts, so it would not see what the locks waited for."""
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


Issuing = tuple[TicketIssued, uuid.UUID, outbox.Row]  # a voucher, its session, its TicketIssued (outbox.row_for)


async def insert(conn: asyncpg.Connection, issuing: Sequence[Issuing]) -> int:
    """These vouchers and, for each one kept, its TicketIssued, in their order, in one statement; how many
    were kept. A registration's first voucher is not kept when it already has one: the unique index is
    the last line.

    A replacement is made under the registration's lock, right after voiding the voucher it replaces;
    a second one would break `replaces`' unique constraint, and that is a bug, not a duplicate.
    """
    if not issuing:
        return 0
    kept: int = await conn.fetchval(
        _INSERT,
        *(
            list(column)
            for column in zip(*(_columns(voucher, session_id) for voucher, session_id, _ in issuing), strict=True)
        ),
        *outbox.columns([announced for _, _, announced in issuing]),
    )
    return kept


# Each TicketIssued is the `n`th row of the outbox columns, for the `n`th voucher ($1 holds their ids).
_INSERT = (
    "WITH issued AS (INSERT INTO vouchers (id, registration_id, code, holder_name, origin_station_id, origin_name_fr,"
    " origin_name_nl, valid_on, price_eur, session_id, replaces, status)"
    " SELECT v.id, v.registration_id, v.code, v.holder_name, v.origin_station_id, v.origin_name_fr, v.origin_name_nl,"
    " v.valid_on, v.price_eur, v.session_id, v.replaces, 'issued'"
    " FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[],"
    " $9::numeric[], $10::uuid[], $11::uuid[]) WITH ORDINALITY AS v(id, registration_id, code, holder_name,"
    " origin_station_id, origin_name_fr, origin_name_nl, valid_on, price_eur, session_id, replaces, n) ORDER BY v.n"
    " ON CONFLICT (registration_id) WHERE replaces IS NULL DO NOTHING RETURNING id),"
    f" {outbox.append_all_after(12, when='($1::uuid[])[r.n::int] IN (SELECT id FROM issued)')}"
    " SELECT count(*) FROM issued"
)


def _columns(voucher: TicketIssued, session_id: uuid.UUID) -> tuple[object, ...]:
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
