"""What a voucher says, and what happens when it cannot be issued (real Postgres)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import registration_events, session_on
from atelier_platform import outbox
from atelier_schemas import TicketIssued
from support.ticketing import ISSUED, REJECTED, handled, published, published_types, running_ticketing, vouchers_of
from ticketing import SOURCE, vouchers
from ticketing.codes import new_voucher_code, normalise
from ticketing.signing import verify_qr_payload


@pytest.fixture(scope="module")
async def ticketing(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing


async def test_a_voucher_names_holder_and_origin_in_both_languages_and_is_valid_on_the_brussels_date(ticketing):
    # Sent in UTC: 23:30 on 12 January is already 00:30 on the 13th in Brussels.
    late = session_on(date(2027, 1, 12)).model_copy(update={"starts_at": datetime(2027, 1, 12, 23, 30, tzinfo=UTC)})
    story = registration_events(origin="008841004", session=late, holder="Émilie Dubois-Lefèvre")
    await ticketing.deliver(cloud_event(story["confirmed"]))

    [issued] = await published(ticketing.pool, story["confirmed"].registration_id, ISSUED)
    assert issued["valid_on"] == "2027-01-13"
    assert (issued["holder_name"], issued["origin_station_id"]) == ("Émilie Dubois-Lefèvre", "008841004")
    assert (issued["origin_name_fr"], issued["origin_name_nl"]) == ("Liège-Guillemins", "Luik-Guillemins")
    assert issued["price_eur"] == "9.60"
    assert normalise(issued["code"]) == issued["code"]

    facts = verify_qr_payload(issued["qr_payload"], ticketing.signer.public_key)
    assert facts == {
        "k": ticketing.signer.key_id,
        "c": issued["code"],
        "d": "2027-01-13",
        "o": "008841004",
        "h": "Émilie Dubois-Lefèvre",
    }

    [voucher] = await vouchers_of(ticketing.pool, story["confirmed"].registration_id)
    assert (voucher["code"], voucher["status"]) == (issued["code"], "issued")
    assert (voucher["origin_name_fr"], voucher["origin_name_nl"]) == ("Liège-Guillemins", "Luik-Guillemins")


async def test_an_unknown_origin_gives_no_voucher_and_one_refusal_with_its_reason(ticketing):
    story = registration_events(origin="009999999")
    events = [cloud_event(story["confirmed"]), cloud_event(story["promoted"]), cloud_event(story["confirmed"])]
    await ticketing.deliver(*events)

    registration_id = story["confirmed"].registration_id
    assert await vouchers_of(ticketing.pool, registration_id) == []
    assert await published_types(ticketing.pool, registration_id) == [REJECTED]
    [rejected] = await published(ticketing.pool, registration_id, REJECTED)
    assert (rejected["reason"], rejected["origin_station_id"]) == ("unknown_station", "009999999")
    assert await handled(ticketing.pool, [e.id for e in events]) == 3  # handled, not dead-lettered


async def test_a_voucher_asked_for_without_an_origin_is_refused_with_its_reason(ticketing):
    story = registration_events(origin=None)
    await ticketing.deliver(cloud_event(story["confirmed"]))
    [rejected] = await published(ticketing.pool, story["confirmed"].registration_id, REJECTED)
    assert (rejected["reason"], rejected["origin_station_id"]) == ("no_origin_station", None)


@pytest.mark.parametrize("inserted", ["one statement each", "in one statement"])
async def test_a_voucher_that_loses_to_the_registrations_first_is_neither_kept_nor_announced(ticketing, inserted):
    # The unique index is the last line, behind the registration's lock: the insert that finds a first voucher
    # there appends no TicketIssued, though the statement carries one.
    registration_id, session_id = uuid.uuid4(), uuid.uuid4()
    first, second = (
        TicketIssued(
            voucher_id=uuid.uuid4(),
            registration_id=registration_id,
            code=new_voucher_code(),
            valid_on=date(2027, 1, 13),
            origin_station_id="008841004",
            price_eur=Decimal("9.60"),
            holder_name="Lena Peeters",
            qr_payload="unsigned",
        )
        for _ in range(2)
    )
    async with ticketing.pool.acquire() as conn:
        rows = [(voucher, session_id, outbox.row_for(voucher, source=SOURCE)) for voucher in (first, second)]
        if inserted == "one statement each":
            assert [await vouchers.insert(conn, [row]) for row in rows] == [1, 0]
        else:
            assert await vouchers.insert(conn, rows) == 1

    assert [v["id"] for v in await vouchers_of(ticketing.pool, registration_id)] == [first.voucher_id]
    [issued] = await published(ticketing.pool, registration_id, ISSUED)
    assert issued["voucher_id"] == str(first.voucher_id)
