"""The outbox relay on real Postgres and Kafka: committed events get out, in order, once."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from decimal import Decimal

import asyncpg
import pytest
from atelier_devkit.databases import fresh_database
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_platform import outbox
from atelier_platform.db import create_pool, keep_session, migrate
from atelier_platform.producer import MAX_REQUEST_SIZE, Producer
from atelier_schemas import TicketIssued
from atelier_schemas.topics import TICKETING_EVENTS
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


@pytest.fixture
async def own_database(infra):
    """A fresh ticketing database: its outbox holds only this test's rows, its lease is free."""
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "relay") as url:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        yield url


@pytest.fixture
async def own_pool(own_database):
    pool = await create_pool(own_database)
    yield pool
    await pool.close()


async def append_issued(pool, registration_id: uuid.UUID, codes: range) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for n in codes:
            await outbox.append(conn, issued(registration_id, n), source="/tests")


async def codes_on_kafka(infra, registration_id: uuid.UUID, count: int) -> list[str]:
    records = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"],
        TICKETING_EVENTS,
        lambda r: r.key == str(registration_id).encode(),
        count=count,
    )
    return [payload(r)["code"] for r in records]


async def test_a_row_kafka_will_never_accept_is_quarantined_and_the_rows_behind_it_are_published(
    infra, own_pool, producer
):
    registration_id = uuid.uuid4()
    await append_issued(own_pool, registration_id, range(0, 1))
    async with own_pool.acquire() as conn:  # as an event over max_request_size would be written
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, headers, value) VALUES ($1, $2, $3, '{}', $4)",
            "too-large",
            TICKETING_EVENTS,
            str(registration_id),
            b"x" * (2 * MAX_REQUEST_SIZE),
        )
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, key, headers, value) VALUES ($1, $2, $3, $4, $5)",
            "bad-headers",
            TICKETING_EVENTS,
            str(registration_id),
            json.dumps({"ce_id": 7}),
            b"{}",
        )
    await append_issued(own_pool, registration_id, range(1, 3))

    relay = outbox.OutboxRelay(own_pool, producer)
    while await relay.relay_once():
        pass

    assert await codes_on_kafka(infra, registration_id, 3) == ["CODE-0", "CODE-1", "CODE-2"]
    set_aside = await own_pool.fetch(
        "SELECT event_id, quarantine_reason FROM outbox WHERE quarantined_at IS NOT NULL ORDER BY position"
    )
    assert [row["event_id"] for row in set_aside] == ["too-large", "bad-headers"]
    assert set_aside[0]["quarantine_reason"].startswith("MessageSizeTooLargeError")
    assert relay.quarantined == 2
    assert await own_pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined_at IS NULL") == 0


async def test_one_relay_publishes_under_its_lease_renewing_it_only_when_it_runs_short(infra, own_pool, producer):
    registration_id = uuid.uuid4()
    first, second = outbox.OutboxRelay(own_pool, producer), outbox.OutboxRelay(own_pool, producer)
    lease = "SELECT holder, expires_at FROM outbox_relay_lease"

    await append_issued(own_pool, registration_id, range(0, 1))
    assert await first.relay_once() == 1
    taken = await own_pool.fetchrow(lease)
    await append_issued(own_pool, registration_id, range(1, 3))
    assert await second.relay_once() == 0  # the lease is the first relay's
    assert await first.relay_once() == 2
    assert await own_pool.fetchrow(lease) == taken  # a busy relay does not write its lease for every batch

    await first.release()  # a clean stop hands it over at once
    await append_issued(own_pool, registration_id, range(3, 4))
    assert await second.relay_once() == 1
    assert await first.relay_once() == 0
    assert (await own_pool.fetchrow(lease))["expires_at"] > taken["expires_at"]
    assert await codes_on_kafka(infra, registration_id, 4) == ["CODE-0", "CODE-1", "CODE-2", "CODE-3"]


async def test_the_relay_holds_no_transaction_nor_connection_while_kafka_works(infra, own_pool):
    registration_id, in_kafka, go_on = uuid.uuid4(), asyncio.Event(), asyncio.Event()

    class SlowProducer(Producer):
        async def send(self, *args, **kwargs):
            in_kafka.set()
            await go_on.wait()
            return await super().send(*args, **kwargs)

    producer = SlowProducer(infra["KAFKA_BOOTSTRAP_SERVERS"], name="slow")
    await append_issued(own_pool, registration_id, range(2))
    relay = outbox.OutboxRelay(own_pool, producer)
    publishing = asyncio.create_task(relay.relay_once())
    try:
        await asyncio.wait_for(in_kafka.wait(), 10)
        database = await own_pool.fetchval("SELECT current_database()")
        in_transaction = await own_pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'", database
        )
        assert in_transaction == 0
        assert own_pool.get_idle_size() == own_pool.get_size()  # every pool connection is back
        async with own_pool.acquire() as conn, conn.transaction():  # the rows are not locked
            locked = await conn.fetch("SELECT position FROM outbox WHERE sent_at IS NULL FOR UPDATE NOWAIT")
        assert len(locked) == 2
    finally:
        go_on.set()
        assert await asyncio.wait_for(publishing, 30) == 2
        await producer.stop()
    assert await codes_on_kafka(infra, registration_id, 2) == ["CODE-0", "CODE-1"]


async def test_a_broken_producer_is_rebuilt_and_the_relay_keeps_publishing(infra, own_pool, producer):
    registration_id = uuid.uuid4()
    relay = outbox.OutboxRelay(own_pool, producer, idle_seconds=0.05, max_backoff=0.2)
    running = asyncio.create_task(relay.run())
    try:
        await append_issued(own_pool, registration_id, range(0, 1))
        assert await codes_on_kafka(infra, registration_id, 1) == ["CODE-0"]

        await producer._producer.stop()  # closed behind the relay's back: every send now fails
        await append_issued(own_pool, registration_id, range(1, 2))

        assert await codes_on_kafka(infra, registration_id, 2) == ["CODE-0", "CODE-1"]
        assert producer.rebuilds == 1
        assert not running.done()
    finally:
        running.cancel()


async def test_the_relay_waits_out_an_unreachable_kafka_then_publishes_what_was_kept(infra, own_pool):
    registration_id = uuid.uuid4()
    producer = Producer(f"127.0.0.1:{free_port()}", name="nowhere")  # nothing listens there
    relay = outbox.OutboxRelay(own_pool, producer, idle_seconds=0.05, max_backoff=0.2)
    running = asyncio.create_task(relay.run())
    try:
        await append_issued(own_pool, registration_id, range(2))
        await asyncio.sleep(2)  # several attempts fail meanwhile
        assert not running.done()
        assert await own_pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 2

        producer.bootstrap_servers = infra["KAFKA_BOOTSTRAP_SERVERS"]  # the broker is reachable again

        assert await codes_on_kafka(infra, registration_id, 2) == ["CODE-0", "CODE-1"]
        assert await eventually(
            lambda: own_pool.fetchval("SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL"), timeout=10
        )
    finally:
        running.cancel()
        await producer.stop()


LISTENING = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'"


async def test_a_commit_in_a_process_without_the_lease_wakes_the_holder_at_once(
    infra, own_database, own_pool, producer
):
    registration_id = uuid.uuid4()
    other_pool = await create_pool(own_database)  # as another process of the service
    holder = outbox.OutboxRelay(own_pool, producer, idle_seconds=60)  # polls too seldom to matter here
    other = outbox.OutboxRelay(other_pool, producer, idle_seconds=60)
    tasks = [
        asyncio.create_task(holder.run()),
        asyncio.create_task(holder.listen(own_database)),
        asyncio.create_task(other.run()),
    ]
    try:
        await append_issued(own_pool, registration_id, range(0, 1))
        holder.wake()
        assert await codes_on_kafka(infra, registration_id, 1) == ["CODE-0"]
        assert await eventually(lambda: own_pool.fetchval(LISTENING), timeout=10)

        await append_issued(other_pool, registration_id, range(1, 2))
        other.wake()  # it cannot take the lease, so it wakes the holder

        assert await codes_on_kafka(infra, registration_id, 2) == ["CODE-0", "CODE-1"]
        assert not any(task.done() for task in tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await other_pool.close()


async def test_a_process_without_the_lease_wakes_the_holder_with_one_statement_while_it_trusts_the_lease_held(
    infra, own_database, own_pool, producer
):
    registration_id, statements = uuid.uuid4(), []

    async def recorded(conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda logged: statements.append(logged.query))

    # As another process of the service, its every statement recorded.
    other_pool = await asyncpg.create_pool(own_database, init=recorded, reset=keep_session)  # no reset query, as ours
    holder, other = outbox.OutboxRelay(own_pool, producer), outbox.OutboxRelay(other_pool, producer)
    try:
        await append_issued(own_pool, registration_id, range(0, 1))
        assert await holder.relay_once() == 1

        await append_issued(other_pool, registration_id, range(1, 2))
        other.wake()
        assert await other.relay_once() == 0  # finds the lease taken, wakes the holder
        await append_issued(other_pool, registration_id, range(2, 3))
        statements.clear()
        other.wake()
        assert await other.relay_once() == 0
        assert statements == [outbox.WAKE_HOLDER]  # trusting the lease held, it did not look again

        await asyncio.sleep(outbox.TRUST_TAKEN_SECONDS)
        await append_issued(other_pool, registration_id, range(3, 4))
        statements.clear()
        other.wake()
        assert await other.relay_once() == 0
        assert outbox.UNSENT in statements  # trusted long enough: it looks, and could take a lease handed back
        assert await holder.relay_once() == 3
        assert await codes_on_kafka(infra, registration_id, 4) == ["CODE-0", "CODE-1", "CODE-2", "CODE-3"]
    finally:
        await other_pool.close()


async def test_listening_ends_with_an_error_when_its_connection_is_lost(own_database, own_pool, producer):
    relay = outbox.OutboxRelay(own_pool, producer)
    listening = asyncio.create_task(relay.listen(own_database))
    assert await eventually(lambda: own_pool.fetchval(LISTENING), timeout=10)

    await own_pool.execute(f"SELECT pg_terminate_backend(pid) FROM ({LISTENING}) AS listener")

    with pytest.raises(ConnectionError):  # the supervisor starts it again
        await asyncio.wait_for(listening, 10)


async def test_commits_close_together_go_out_in_one_batch(infra, own_pool, producer):
    registration_id, batches = uuid.uuid4(), []

    class CountingRelay(outbox.OutboxRelay):
        async def relay_once(self) -> int:
            moved = await super().relay_once()
            if moved:
                batches.append(moved)
            return moved

    await append_issued(own_pool, registration_id, range(0, 1))
    relay = CountingRelay(own_pool, producer, idle_seconds=60, linger_seconds=5)
    running = asyncio.create_task(relay.run())
    try:
        assert await codes_on_kafka(infra, registration_id, 1) == ["CODE-0"]
        for n in range(1, 4):  # three commits, each waking the relay, within the linger of its last batch
            await append_issued(own_pool, registration_id, range(n, n + 1))
            relay.wake()
            await asyncio.sleep(0.2)  # time enough for a relay without a linger to publish each alone

        assert await codes_on_kafka(infra, registration_id, 4) == ["CODE-0", "CODE-1", "CODE-2", "CODE-3"]
        # a batch is counted after its rows are marked sent, which follows their arrival on Kafka
        assert await eventually(lambda: sum(batches) == 4, timeout=10)
        assert batches == [1, 3]
    finally:
        running.cancel()
