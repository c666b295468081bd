"""Delivery rounds on real Postgres and a real SMTP server: kept-open connections, a pool that is
never exceeded, a round's share of messages over its connections, connections kept through a lull
shorter than the idle time, rounds side by side, a connection lost mid-round, a round cut before its
commit, and two deliverers sharing one queue."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from types import SimpleNamespace

import asyncpg
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.handling import handle
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from notifications.delivery import Deliverer, Outcome
from notifications.handlers import handlers
from notifications.smtp import MailerPool
from support.delivery import deliver_all, delivery_settings

HANDLERS = handlers(reminder_before=timedelta(hours=24))
CUT = f"cut-{uuid.uuid4().hex[:8]}@example.be"


@pytest.fixture(scope="module")
async def pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_rounds") as database:
        yield database.pool


@pytest.fixture(scope="module")
def smtp():
    with RecordingSmtpServer(free_port(), cut=(CUT,)) as server:
        yield server


async def confirmations_to(pool: asyncpg.Pool, address: str, count: int) -> list[uuid.UUID]:
    registrations = [events.confirmed(address) for _ in range(count)]
    for registration in registrations:
        await handle(pool, HANDLERS, registration)
    return [r.registration_id for r in registrations]


async def states(pool: asyncpg.Pool, registration_ids: list[uuid.UUID]) -> list[tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT status, attempts FROM messages WHERE registration_id = ANY($1::uuid[])", registration_ids
    )
    return [(r["status"], r["attempts"]) for r in rows]


async def test_a_burst_goes_out_over_the_pools_connections_each_carrying_several_messages(pool, smtp):
    address = unique_email()
    await confirmations_to(pool, address, 12)
    await deliver_all(pool, smtp.port, smtp_connections=3)

    carried = smtp.connections_of(address)
    assert sum(carried.values()) == 12
    assert len(carried) <= 3  # never more connections than the pool has
    assert min(carried.values()) >= 2, carried  # each connection was kept open for the next messages


async def test_a_round_claims_its_share_of_messages_and_sends_them_over_its_own_connections(pool, smtp):
    address = unique_email()
    registrations = await confirmations_to(pool, address, 10)
    settings = delivery_settings(smtp.port, smtp_connections=2, messages_per_round=6)
    mailers = MailerPool(settings)
    try:
        assert await Deliverer(settings).deliver_round(pool, mailers) == 6
    finally:
        await mailers.close()

    assert sorted(await states(pool, registrations)) == [("pending", 0)] * 4 + [("sent", 1)] * 6
    carried = smtp.connections_of(address)
    assert len(carried) == 2 and sum(carried.values()) == 6  # the round's two connections carried all six
    await deliver_all(pool, smtp.port)  # the queue empty again for the next test


async def test_a_connection_is_opened_again_after_its_share_of_messages(pool, smtp):
    address = unique_email()
    await confirmations_to(pool, address, 7)
    await deliver_all(pool, smtp.port, smtp_connections=1, smtp_messages_per_connection=3)

    assert sorted(smtp.connections_of(address).values()) == [1, 3, 3]


@pytest.mark.parametrize(("idle_seconds", "carried"), [(30.0, [3]), (0.0, [1, 1, 1])])
async def test_connections_outlive_a_lull_shorter_than_the_idle_time(pool, smtp, idle_seconds, carried):
    """A trickle of messages, each after the queue was found empty several times: with connections
    kept open while idle, one carries them all; closed as soon as idle, each opens its own."""
    address = unique_email()
    settings = delivery_settings(
        smtp.port, smtp_connections=1, delivery_rounds=1, poll_seconds=0.05, smtp_idle_seconds=idle_seconds
    )
    deliverer = Deliverer(settings)
    async with delivering(deliverer, pool):
        for sent in range(1, 4):
            await confirmations_to(pool, address, 1)
            deliverer.wake()
            assert await eventually(lambda sent=sent: len(smtp.to(address)) == sent, timeout=10, interval=0.05)
            await asyncio.sleep(0.3)  # the queue is found empty about six times

    assert sorted(smtp.connections_of(address).values()) == carried


@pytest.mark.parametrize("rounds", [1, 2])
async def test_a_process_sends_over_the_connections_of_each_of_its_delivery_rounds(pool, smtp, rounds):
    """Rounds side by side, each over its own connection here: each message goes once, and each
    registration's messages in their order."""
    address = unique_email()
    registrations = await confirmations_to(pool, address, 20)
    for registration_id in registrations:
        await handle(pool, HANDLERS, events.ticket_issued(registration_id))
    deliverer = Deliverer(delivery_settings(smtp.port, smtp_connections=1, delivery_rounds=rounds))
    async with delivering(deliverer, pool):
        assert await eventually(lambda: len(smtp.to(address)) == 40, timeout=20, interval=0.05)

    carried = smtp.connections_of(address)
    assert len(carried) == rounds and sum(carried.values()) == 40
    await assert_each_message_once_and_in_order(pool, smtp, address, registrations)


async def test_a_connection_lost_mid_round_costs_no_attempt_and_no_message_goes_twice(pool, smtp):
    address = unique_email()
    registrations = await confirmations_to(pool, CUT, 1) + await confirmations_to(pool, address, 5)
    deliverer = Deliverer(delivery_settings(smtp.port, smtp_connections=3))
    for _ in range(50):
        await deliver_all(pool, smtp.port, deliverer, smtp_connections=3)
        if all(status == "sent" for status, _ in await states(pool, registrations)):
            break
        await asyncio.sleep(0.1)  # the breaker's pause, after the connection was lost

    assert deliverer.counters.outages >= 1  # the cut was found as the server being out…
    assert await states(pool, registrations) == [("sent", 1)] * 6  # …which charged the message nothing
    message_ids = await pool.fetch(
        "SELECT message_id FROM messages WHERE registration_id = ANY($1::uuid[])", registrations
    )
    received = smtp.count_by_message_id()
    assert [received[r["message_id"]] for r in message_ids] == [1] * 6


class DiesBeforeItsCommit(Deliverer):
    """A process killed after the server's "250 OK" and before its round is committed."""

    async def _record(self, conn: asyncpg.Connection, outcomes: list[tuple[Mapping, Outcome]]) -> None:
        raise ConnectionResetError("killed before the commit")


async def test_a_round_cut_before_its_commit_sends_again_at_most_the_messages_it_claimed(pool, smtp):
    address = unique_email()
    registrations = await confirmations_to(pool, address, 10)
    settings = delivery_settings(smtp.port)  # the default round
    dying, mailers = DiesBeforeItsCommit(settings), MailerPool(settings)
    with pytest.raises(ConnectionResetError):
        await dying.deliver_round(pool, mailers)
    mailers.drop()
    assert len(smtp.to(address)) == settings.messages_per_round == 8  # sent but not recorded

    await deliver_all(pool, smtp.port)

    assert await states(pool, registrations) == [("sent", 1)] * 10
    copies = collections.Counter(str(m["Message-ID"]) for m in smtp.to(address))
    assert len(copies) == 10 and sorted(copies.values()) == [1] * 2 + [2] * 8


async def test_two_deliverers_on_one_queue_never_send_a_message_twice_and_keep_each_registrations_order(pool, smtp):
    address = unique_email()
    registrations = await confirmations_to(pool, address, 15)
    for registration_id in registrations:
        await handle(pool, HANDLERS, events.ticket_issued(registration_id))
    first, second = (Deliverer(delivery_settings(smtp.port, smtp_connections=2)) for _ in range(2))
    await asyncio.gather(
        deliver_all(pool, smtp.port, first, smtp_connections=2),
        deliver_all(pool, smtp.port, second, smtp_connections=2),
    )

    assert first.counters.sent > 0 and second.counters.sent > 0  # both took their share
    await assert_each_message_once_and_in_order(pool, smtp, address, registrations)


@contextlib.asynccontextmanager
async def delivering(deliverer: Deliverer, pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The deliverer's loops running, as in the service, until the block ends."""
    service = SimpleNamespace(pool=pool, relay=SimpleNamespace(wake=lambda: None))  # what the loops use of it
    running = asyncio.create_task(deliverer.run(service))  # type: ignore[arg-type]
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def assert_each_message_once_and_in_order(
    pool: asyncpg.Pool, smtp: RecordingSmtpServer, address: str, registrations: list[uuid.UUID]
) -> None:
    """Each registration's confirmation and voucher email were sent once, the confirmation first."""
    assert await states(pool, registrations) == [("sent", 1)] * 2 * len(registrations)
    arrivals = [str(m["Message-ID"]) for m in smtp.to(address)]
    assert sorted(arrivals) == sorted(set(arrivals)) and len(arrivals) == 2 * len(registrations)
    rows = await pool.fetch(
        "SELECT registration_id, kind, message_id FROM messages WHERE registration_id = ANY($1::uuid[])", registrations
    )
    arrived = {(r["registration_id"], r["kind"]): arrivals.index(r["message_id"]) for r in rows}
    for registration_id in registrations:
        assert arrived[registration_id, "registration_confirmed"] < arrived[registration_id, "voucher_issued"]
