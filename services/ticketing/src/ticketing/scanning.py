"""A conductor scans a voucher: valid on its day once, then used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import asyncpg
from atelier_platform import outbox
from atelier_schemas import TicketValidated

from . import SOURCE, vouchers
from .clock import brussels_date

Verdict = Literal["validated", "already_used", "void", "wrong_date", "unknown"]


def judge(status: str, valid_on: date, today: date) -> Verdict:
    """What a scan on `today` means for a voucher in `status`, valid on `valid_on`."""
    if status == "void":
        return "void"
    if status == "used":
        return "already_used"
    if valid_on != today:
        return "wrong_date"
    return "validated"


@dataclass(frozen=True)
class Scan:
    verdict: Verdict
    voucher: asyncpg.Record | None  # as it is after the scan


async def scan(pool: asyncpg.Pool, code: str, now: datetime) -> Scan:
    """Judge the voucher with this (canonical) code at `now`; a valid one becomes used, with its event."""
    async with pool.acquire() as conn, conn.transaction():
        voucher = await vouchers.by_code(conn, code, for_update=True)
        if voucher is None:
            return Scan("unknown", None)
        verdict = judge(voucher["status"], voucher["valid_on"], brussels_date(now))
        if verdict != "validated":
            return Scan(verdict, voucher)
        await vouchers.mark_used(conn, voucher["id"], now)
        validated = TicketValidated(
            voucher_id=voucher["id"], registration_id=voucher["registration_id"], code=code, validated_at=now
        )
        await outbox.append(conn, validated, source=SOURCE)
        return Scan(verdict, await vouchers.by_code(conn, code))
