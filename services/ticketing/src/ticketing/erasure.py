"""Ticketing's part of erasing a person, and of forgetting past travellers: the holder name goes.

A voucher keeps its code, station, day, price and status (counts of vouchers stay); the holder
name is replaced in the voucher rows and in the outbox, and signed QR payloads there are dropped.
"""

from __future__ import annotations

import uuid

import asyncpg
from atelier_platform import outbox
from atelier_platform.anonymise import ERASED_NAME, remember_erased, scrub_outbox
from atelier_platform.retention import Purge, RetentionSettings, rows_affected
from atelier_schemas import CloudEvent, PersonErased, TicketingErasureConfirmed

from . import SOURCE


async def on_person_erased(conn: asyncpg.Connection, event: CloudEvent, erased: PersonErased) -> None:
    await remember_erased(conn, erased.erasure_id, erased.registration_ids)
    await scrub(conn, erased.erasure_id, erased.registration_ids)
    await outbox.append(conn, TicketingErasureConfirmed(erasure_id=erased.erasure_id), source=SOURCE)


async def scrub(conn: asyncpg.Connection, erasure_id: uuid.UUID, registration_ids: list[uuid.UUID]) -> None:
    """The holder name out of these registrations' vouchers and outbox rows."""
    names = await conn.fetch(
        "SELECT DISTINCT holder_name FROM vouchers WHERE registration_id = ANY($1::uuid[])", registration_ids
    )
    await conn.execute(
        "UPDATE vouchers SET holder_name = $2 WHERE registration_id = ANY($1::uuid[])", registration_ids, ERASED_NAME
    )
    replacements = {row["holder_name"]: ERASED_NAME for row in names if row["holder_name"] != ERASED_NAME}
    await scrub_outbox(conn, [str(r) for r in registration_ids], replacements)


async def anonymise_past_vouchers(conn: asyncpg.Connection, settings: RetentionSettings) -> int:
    """Holder names of vouchers whose day is more than `past_sessions_months` behind us."""
    return rows_affected(
        await conn.execute(
            "UPDATE vouchers SET holder_name = $2"
            " WHERE valid_on < (now() - make_interval(months => $1))::date AND holder_name <> $2",
            settings.past_sessions_months,
            ERASED_NAME,
        )
    )


PURGES = (Purge("past_vouchers", anonymise_past_vouchers),)
