"""What ticketing does with each event, inside the consumer's transaction."""

from __future__ import annotations

import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
from atelier_platform import outbox
from atelier_schemas import CloudEvent, RegistrationConfirmed, TicketIssued

from . import SOURCE
from .codes import new_voucher_code

BRUSSELS = ZoneInfo("Europe/Brussels")


async def issue_voucher(
    conn: asyncpg.Connection, event: CloudEvent, confirmed: RegistrationConfirmed, price: Decimal
) -> None:
    if not confirmed.wants_voucher or confirmed.origin_station_id is None:
        return
    voucher = TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=confirmed.registration_id,
        code=new_voucher_code(),
        valid_on=confirmed.session.starts_at.astimezone(BRUSSELS).date(),
        origin_station_id=confirmed.origin_station_id,
        price_eur=price,
    )
    inserted = await conn.fetchval(
        "INSERT INTO vouchers (id, registration_id, code, holder_name, origin_station_id,"
        " valid_on, price_eur, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued')"
        " ON CONFLICT (registration_id) DO NOTHING RETURNING true",
        voucher.voucher_id,
        voucher.registration_id,
        voucher.code,
        confirmed.participant.name,
        voucher.origin_station_id,
        voucher.valid_on,
        voucher.price_eur,
    )
    if inserted:
        await outbox.append(conn, voucher, source=SOURCE)
