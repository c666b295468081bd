"""What ticketing does with each registration event, inside the consumer's transaction.

The outcome depends only on which events of a registration were seen, never on their order
or on how often each arrived: a cancellation is remembered even before any voucher exists,
and a registration has at most one voucher.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from functools import partial

import asyncpg
import structlog
from atelier_platform import outbox
from atelier_platform.consumer import Handler
from atelier_platform.metrics import VOUCHERS
from atelier_schemas import (
    CloudEvent,
    Message,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    TicketIssued,
    TicketRejected,
    TicketVoided,
)

from . import SOURCE, station_store, vouchers
from .clock import brussels_date
from .codes import new_voucher_code
from .signing import VoucherSigner

log = structlog.get_logger(__name__)


def event_handlers(price: Decimal, signer: VoucherSigner) -> dict[type[Message], Handler]:
    """RegistrationWaitlisted and RegistrationRejected are not here: they never give a voucher."""
    issue = partial(issue_voucher, price=price, signer=signer)
    return {
        RegistrationConfirmed: issue,
        RegistrationPromoted: issue,
        RegistrationCancelled: void_voucher,
    }


async def issue_voucher(
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
    registration_id = admitted.registration_id
    await vouchers.lock_registration(conn, registration_id)
    if await vouchers.was_cancelled(conn, registration_id):
        log.info("registration already cancelled, no voucher", registration_id=str(registration_id))
        return
    if await vouchers.has_voucher(conn, registration_id):
        return
    origin_id = admitted.origin_station_id
    origin = None if origin_id is None else await station_store.find(conn, origin_id)
    if origin is None:
        reason = "no_origin_station" if origin_id is None else "unknown_station"
        if await vouchers.record_rejection(conn, registration_id, origin_id, reason):
            rejected = TicketRejected(registration_id=registration_id, origin_station_id=origin_id, reason=reason)
            await outbox.append(conn, rejected, source=SOURCE)
            log.info("voucher refused", registration_id=str(registration_id), reason=reason)
        return
    code = new_voucher_code()
    valid_on = brussels_date(admitted.session.starts_at)
    holder = admitted.participant.name
    voucher = TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=registration_id,
        code=code,
        valid_on=valid_on,
        origin_station_id=origin.id,
        price_eur=price,
        holder_name=holder,
        origin_name_fr=origin.name_fr,
        origin_name_nl=origin.name_nl,
        qr_payload=signer.qr_payload(code=code, valid_on=valid_on, origin_station_id=origin.id, holder_name=holder),
    )
    if await vouchers.insert(conn, voucher):
        await outbox.append(conn, voucher, source=SOURCE)
        VOUCHERS.labels("issued").inc()


async def void_voucher(conn: asyncpg.Connection, event: CloudEvent, cancelled: RegistrationCancelled) -> None:
    """Remember the cancellation whatever came before, and void the voucher if one was issued."""
    registration_id = cancelled.registration_id
    await vouchers.lock_registration(conn, registration_id)
    await vouchers.record_cancellation(conn, registration_id, cancelled.cancelled_by)
    reason = "registration_cancelled" if cancelled.cancelled_by == "participant" else "cancelled_by_organiser"
    voided = await vouchers.void(conn, registration_id, reason)
    if voided is not None:
        voided_event = TicketVoided(
            voucher_id=voided["id"], registration_id=registration_id, code=voided["code"], reason=reason
        )
        await outbox.append(conn, voided_event, source=SOURCE)
        VOUCHERS.labels("voided").inc()
