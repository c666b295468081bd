"""What the participant's page is told about a registration's voucher: the current one, or why there is none."""

from __future__ import annotations

import uuid

import pytest
from atelier_devkit.notification_events import ticket_issued
from atelier_platform import outbox
from support.ticketing import running_ticketing
from ticketing import SOURCE, vouchers


@pytest.fixture(scope="module")
async def pool(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing.pool


async def test_after_its_session_moved_a_registration_shows_the_voucher_that_replaced_the_first(pool):
    registration_id = uuid.uuid4()
    first = ticket_issued(registration_id)
    replacement = ticket_issued(registration_id).model_copy(update={"replaces": first.voucher_id})
    async with pool.acquire() as conn, conn.transaction():
        await vouchers.insert(conn, [(first, uuid.uuid4(), outbox.row_for(first, source=SOURCE))])
        await vouchers.void(conn, registration_id, "session_moved")
        await vouchers.insert(conn, [(replacement, uuid.uuid4(), outbox.row_for(replacement, source=SOURCE))])
    voucher, rejected = await vouchers.of_registration(pool, registration_id)
    assert (voucher["code"], voucher["status"], rejected) == (replacement.code, "issued", None)


async def test_a_refused_voucher_comes_with_its_reason_and_an_unknown_registration_with_nothing(pool):
    registration_id = uuid.uuid4()
    async with pool.acquire() as conn:
        await vouchers.record_rejection(conn, registration_id, "000000000", "unknown_station")
    assert await vouchers.of_registration(pool, registration_id) == (None, "unknown_station")
    assert await vouchers.of_registration(pool, uuid.uuid4()) == (None, None)
