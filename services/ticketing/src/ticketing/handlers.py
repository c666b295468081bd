"""What ticketing does with each registration and catalog event, inside the consumer's transaction.

The outcome depends only on which events were seen, never on their order or on how often each
arrived: a cancellation is remembered even before any voucher exists, a registration has one
voucher valid at a time, and a voucher is valid on its session's latest known day — an older
event about the session (a replay, or a registration event written before a change) never
brings an old day back.

Each handler runs under the session and registration locks its event names, taken for the whole
batch before any handler (batches.around_batch); it locks only what the event does not name, the
registrations holding vouchers for a session that moves or ends.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from functools import partial

import asyncpg
import structlog
from atelier_platform import outbox
from atelier_platform.consumer import Handlers
from atelier_platform.metrics import VOUCHERS
from atelier_platform.stretches import current, written_first
from atelier_schemas import (
    CloudEvent,
    PersonErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    SessionCancelled,
    SessionChanged,
    SessionScheduled,
    TicketIssued,
    TicketRejected,
    TicketVoided,
)

from . import SOURCE, erasure, issuing, session_dates, vouchers
from .clock import brussels_date
from .codes import new_voucher_code
from .signing import VoucherSigner

log = structlog.get_logger(__name__)


def handlers(price: Decimal, signer: VoucherSigner) -> Handlers:
    """RegistrationWaitlisted and RegistrationRejected are not here: they never give a voucher."""
    return written_first(
        {
            RegistrationConfirmed: partial(on_registration_confirmed, price=price, signer=signer),
            RegistrationPromoted: partial(on_registration_promoted, price=price, signer=signer),
            RegistrationCancelled: on_registration_cancelled,
            SessionScheduled: on_session_scheduled,
            SessionChanged: partial(on_session_changed, signer=signer),
            SessionCancelled: on_session_cancelled,
            PersonErased: erasure.on_person_erased,
        },
        issuing.Issuing,
    )


async def on_registration_confirmed(
    conn: asyncpg.Connection,
    event: CloudEvent,
    confirmed: RegistrationConfirmed,
    *,
    price: Decimal,
    signer: VoucherSigner,
) -> None:
    await _issue_voucher(conn, event, confirmed, price=price, signer=signer)


async def on_registration_promoted(
    conn: asyncpg.Connection,
    event: CloudEvent,
    promoted: RegistrationPromoted,
    *,
    price: Decimal,
    signer: VoucherSigner,
) -> None:
    await _issue_voucher(conn, event, promoted, price=price, signer=signer)


async def _issue_voucher(
    conn: asyncpg.Connection,
    event: CloudEvent,
    admitted: RegistrationConfirmed | RegistrationPromoted,
    *,
    price: Decimal,
    signer: VoucherSigner,
) -> None:
    """The participant now holds a seat: issue the voucher they asked for, once."""
    if not admitted.wants_voucher:
        return
    registration_id, session_id = admitted.registration_id, admitted.session.session_id
    origin_id = admitted.origin_station_id
    batch = current(issuing.Issuing)
    known = vouchers.as_of(await batch.known_for(conn, admitted), event.time)
    if known.cancelled:
        log.info("registration already cancelled, no voucher", registration_id=str(registration_id))
        return
    if known.has_voucher:
        return
    if known.session_cancelled:
        log.info("session cancelled, no voucher", registration_id=str(registration_id))
        return
    if known.origin is None:
        reason = "no_origin_station" if origin_id is None else "unknown_station"
        if await vouchers.record_rejection(conn, registration_id, origin_id, reason):
            rejected = TicketRejected(registration_id=registration_id, origin_station_id=origin_id, reason=reason)
            await outbox.append(conn, rejected, source=SOURCE)
            log.info("voucher refused", registration_id=str(registration_id), reason=reason)
        return
    starts_at = known.newer_start or admitted.session.starts_at
    voucher = _signed(
        signer,
        registration_id=registration_id,
        valid_on=brussels_date(starts_at),
        origin_station_id=known.origin.id,
        origin_name_fr=known.origin.name_fr,
        origin_name_nl=known.origin.name_nl,
        holder_name=admitted.participant.name,
        price_eur=price,
    )
    announced = outbox.row_for(voucher, source=SOURCE)
    batch.issuing.append((voucher, session_id, announced))


async def on_registration_cancelled(
    conn: asyncpg.Connection, event: CloudEvent, cancelled: RegistrationCancelled
) -> None:
    """Remember the cancellation whatever came before, and void the voucher if one was issued."""
    registration_id = cancelled.registration_id
    await vouchers.record_cancellation(conn, registration_id, cancelled.cancelled_by)
    reason = "registration_cancelled" if cancelled.cancelled_by == "participant" else "cancelled_by_organiser"
    await _void(conn, registration_id, reason)


async def on_session_scheduled(conn: asyncpg.Connection, event: CloudEvent, scheduled: SessionScheduled) -> None:
    session = scheduled.session
    await session_dates.save(conn, session.session_id, session.starts_at, event.time)


async def on_session_changed(
    conn: asyncpg.Connection, event: CloudEvent, changed: SessionChanged, *, signer: VoucherSigner
) -> None:
    """The session moved to another day: each voucher still to be used is voided and replaced by one
    for the new day (new code, new signed QR payload). A change of time or room on the same day,
    or an event older than what is known of the session, changes no voucher."""
    session = changed.session
    if not await session_dates.save(conn, session.session_id, session.starts_at, event.time):
        log.info("older news of the session ignored", session_id=str(session.session_id))
        return
    valid_on = brussels_date(session.starts_at)
    for row in await vouchers.issued_for_session(conn, session.session_id):
        registration_id = row["registration_id"]
        await vouchers.lock_registration(conn, registration_id)
        old = await vouchers.void(conn, registration_id, "session_moved", unless_valid_on=valid_on)
        if old is None:
            continue  # already on the new day, or cancelled or used meanwhile
        new = _signed(
            signer,
            registration_id=registration_id,
            valid_on=valid_on,
            origin_station_id=old["origin_station_id"],
            origin_name_fr=old["origin_name_fr"],
            origin_name_nl=old["origin_name_nl"],
            holder_name=old["holder_name"],
            price_eur=old["price_eur"],
            replaces=old["id"],
            reason="session_moved",
        )
        voided = TicketVoided(
            voucher_id=old["id"],
            registration_id=registration_id,
            code=old["code"],
            reason="session_moved",
            replaced_by=new.voucher_id,
        )
        await outbox.append(conn, voided, source=SOURCE)  # before the new voucher's TicketIssued
        await vouchers.insert(conn, [(new, session.session_id, outbox.row_for(new, source=SOURCE))])
        VOUCHERS.labels("voided").inc()
        VOUCHERS.labels("issued").inc()
        log.info("voucher moved with its session", registration_id=str(registration_id))


async def on_session_cancelled(conn: asyncpg.Connection, event: CloudEvent, cancelled: SessionCancelled) -> None:
    """No voucher of a cancelled session stays valid, and none is issued for it afterwards."""
    await session_dates.cancel(conn, cancelled.session_id, event.time)
    for row in await vouchers.issued_for_session(conn, cancelled.session_id):
        await vouchers.lock_registration(conn, row["registration_id"])
        await _void(conn, row["registration_id"], "session_cancelled")


async def _void(conn: asyncpg.Connection, registration_id: uuid.UUID, reason: str) -> None:
    voided = await vouchers.void(conn, registration_id, reason)
    if voided is not None:
        voided_event = TicketVoided(
            voucher_id=voided["id"], registration_id=registration_id, code=voided["code"], reason=reason
        )
        await outbox.append(conn, voided_event, source=SOURCE)
        VOUCHERS.labels("voided").inc()


def _signed(
    signer: VoucherSigner,
    *,
    registration_id: uuid.UUID,
    valid_on: date,
    origin_station_id: str,
    origin_name_fr: str | None,
    origin_name_nl: str | None,
    holder_name: str,
    price_eur: Decimal,
    replaces: uuid.UUID | None = None,
    reason: str | None = None,
) -> TicketIssued:
    """A new voucher: a fresh code and the QR payload signed over its facts."""
    code = new_voucher_code()
    qr_payload = signer.qr_payload(
        code=code, valid_on=valid_on, origin_station_id=origin_station_id, holder_name=holder_name
    )
    return TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=registration_id,
        code=code,
        valid_on=valid_on,
        origin_station_id=origin_station_id,
        price_eur=price_eur,
        holder_name=holder_name,
        origin_name_fr=origin_name_fr,
        origin_name_nl=origin_name_nl,
        qr_payload=qr_payload,
        replaces=replaces,
        reason=reason,
    )
