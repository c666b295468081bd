"""The outbox relay on real Postgres and Kafka: committed events get out, in order, once."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from atelier_platform import outbox
from atelier_platform.db import create_pool, migrate
from atelier_platform.producer import Producer
from atelier_schemas import TicketIssued
from atelier_schemas.topics import TICKETING_EVENTS
from support.kafka import headers_of, payload, wait_for_records
from ticketing.config import MIGRATIONS


def issued(registration_id: uuid.UUID, n: int) -> TicketIssued:
    return TicketIssued(
        voucher_id=uuid.uuid4(),
        registration_id=registration_id,
        code=f"CODE-{n}",
        valid_on=date(2027, 1, 12),
        origin_station_id="008821006",
        price_eur=Decimal("9.60"),
    )


@pytest.fixture
async def pool(infra):
    migrate(infra["TICKETING_DATABASE_URL"], MIGRATIONS)
    pool = await create_pool(infra["TICKETING_DATABASE_URL"])
    yield pool
    await pool.close()


@pytest.fixture
async def producer(infra):
    producer = Producer(infra["KAFKA_BOOTSTRAP_SERVERS"], name="tests")
    yield producer
    await producer.stop()


async def test_committed_events_are_published_in_order_and_rolled_back_ones_never(infra, pool, producer):
    registration_id = uuid.uuid4()
    async with pool.acquire() as conn:
        for n in range(3):
            async with conn.transaction():
                event_id = await outbox.append(conn, issued(registration_id, n), source="/tests")
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await outbox.append(conn, issued(registration_id, 99), source="/tests")
                raise RuntimeError("the use case failed after appending")

    # A relay started after the writes (as after a restart) publishes what is pending.
    relay = outbox.OutboxRelay(pool, producer)
    while await relay.relay_once():
        pass

    records = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, lambda r: r.key == str(registration_id).encode(), count=3
    )
    assert [payload(r)["code"] for r in records] == ["CODE-0", "CODE-1", "CODE-2"]
    assert headers_of(records[-1])["ce_id"] == event_id
    assert headers_of(records[0])["ce_type"] == TicketIssued.TYPE
    unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1 AND sent_at IS NULL", str(registration_id))
    assert unsent == 0
