"""A conductor's scan on real Postgres, at moments the test chooses."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import registration_events, session_on
from support.ticketing import VALIDATED, published, published_types, running_ticketing
from ticketing.codes import new_voucher_code
from ticketing.scanning import scan

SESSION_DAY = date(2027, 1, 12)
# 07:41 in Brussels on the session day.
ON_THE_DAY = datetime(2027, 1, 12, 6, 41, tzinfo=UTC)


@pytest.fixture(scope="module")
async def ticketing(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing


async def issued_voucher(ticketing, *, cancelled: bool = False) -> tuple[str, str]:
    """A voucher valid on SESSION_DAY, issued (and voided) through the consumer; its code and registration."""
    story = registration_events(session=session_on(SESSION_DAY))
    await ticketing.deliver(cloud_event(story["confirmed"]))
    if cancelled:
        await ticketing.deliver(cloud_event(story["cancelled"]))
    registration_id = story["confirmed"].registration_id
    code = await ticketing.pool.fetchval("SELECT code FROM vouchers WHERE registration_id = $1", registration_id)
    return code, registration_id


async def test_a_voucher_scanned_on_its_day_is_used_once_and_announced_once(ticketing):
    code, registration_id = await issued_voucher(ticketing)

    first = await scan(ticketing.pool, code, ON_THE_DAY)
    second = await scan(ticketing.pool, code, ON_THE_DAY.replace(hour=15))

    assert first.verdict == "validated"
    assert (first.voucher["status"], first.voucher["used_at"]) == ("used", ON_THE_DAY)
    assert second.verdict == "already_used"
    assert second.voucher["used_at"] == ON_THE_DAY
    [validated] = await published(ticketing.pool, registration_id, VALIDATED)
    assert (validated["code"], validated["validated_at"]) == (code, "2027-01-12T06:41:00Z")


async def test_the_day_is_the_brussels_day(ticketing):
    code, _ = await issued_voucher(ticketing)
    # 23:30 UTC on the 11th is 00:30 on the 12th in Brussels.
    assert (await scan(ticketing.pool, code, datetime(2027, 1, 11, 23, 30, tzinfo=UTC))).verdict == "validated"


@pytest.mark.parametrize(
    "moment",
    [datetime(2027, 1, 11, 12, tzinfo=UTC), datetime(2027, 1, 12, 23, 30, tzinfo=UTC)],
    ids=["the-day-before", "just-after-midnight-in-brussels"],
)
async def test_a_voucher_scanned_on_another_day_is_refused_and_stays_valid(ticketing, moment):
    code, registration_id = await issued_voucher(ticketing)
    refused = await scan(ticketing.pool, code, moment)
    assert (refused.verdict, refused.voucher["status"]) == ("wrong_date", "issued")
    assert VALIDATED not in await published_types(ticketing.pool, registration_id)


async def test_a_void_voucher_is_refused(ticketing):
    code, registration_id = await issued_voucher(ticketing, cancelled=True)
    refused = await scan(ticketing.pool, code, ON_THE_DAY)
    assert (refused.verdict, refused.voucher["status"]) == ("void", "void")
    assert VALIDATED not in await published_types(ticketing.pool, registration_id)


async def test_an_unknown_code_is_refused(ticketing):
    assert (await scan(ticketing.pool, new_voucher_code(), ON_THE_DAY)).verdict == "unknown"


async def test_two_conductors_scanning_at_once_get_one_validation(ticketing):
    code, registration_id = await issued_voucher(ticketing)
    scans = await asyncio.gather(*(scan(ticketing.pool, code, ON_THE_DAY) for _ in range(4)))
    assert sorted(s.verdict for s in scans) == ["already_used"] * 3 + ["validated"]
    assert len(await published(ticketing.pool, registration_id, VALIDATED)) == 1
