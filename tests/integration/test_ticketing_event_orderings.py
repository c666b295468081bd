"""Ticketing's consumer on real Postgres: whatever the order and however often the events of a
registration arrive, it ends with the one right voucher state."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from datetime import date, timedelta
from decimal import Decimal
from itertools import permutations

import pytest
from atelier_devkit import notification_events as catalog
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import registration_events, session_on
from atelier_platform.db import create_pool
from atelier_schemas import RegistrationConfirmed
from support.ticketing import (
    ISSUED,
    REJECTED,
    VOIDED,
    consumer_of,
    handled,
    published_types,
    record_of,
    running_ticketing,
    vouchers_of,
)
from ticketing.codes import new_voucher_code
from ticketing.handlers import handlers

C, X, P = "confirmed", "cancelled", "promoted"
ORDERS = [order for n in (1, 2, 3) for order in permutations((C, X, P), n)]
# once: as sent. each_twice: every record delivered again at once (a retry after a lost commit).
# sequence_again: the partition replayed from an older offset. new_copies: registration published
# each event a second time under a new event id, which the inbox cannot recognise.
REDELIVERIES = ("once", "each_twice", "sequence_again", "new_copies")


@pytest.fixture(scope="module")
async def ticketing(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing


@pytest.fixture(scope="module")
async def two_members(infra):
    """Two consumers of the group, each with its own pool, as two replicas would be."""
    async with running_ticketing(infra, consumers=2) as ticketing:
        yield ticketing


@pytest.mark.parametrize("redelivery", REDELIVERIES)
@pytest.mark.parametrize("order", ORDERS, ids="-".join)
async def test_every_order_of_confirmed_cancelled_promoted_ends_in_the_right_state(ticketing, order, redelivery):
    story = registration_events()
    registration_id = story[C].registration_id
    events = [cloud_event(story[name]) for name in order]
    deliveries = {
        "once": events,
        "each_twice": [e for event in events for e in (event, event)],
        "sequence_again": events + events,
        "new_copies": events + [cloud_event(story[name]) for name in order],
    }[redelivery]

    await ticketing.deliver(*deliveries)

    vouchers = await vouchers_of(ticketing.pool, registration_id)
    published = await published_types(ticketing.pool, registration_id)
    if X not in order:
        assert [v["status"] for v in vouchers] == ["issued"]
        assert published == [ISSUED]
    elif order.index(X) == 0:  # cancelled before it was ever admitted: nothing issued, nothing to void
        assert vouchers == []
        assert published == []
    else:
        assert [(v["status"], v["void_reason"]) for v in vouchers] == [("void", "registration_cancelled")]
        assert published == [ISSUED, VOIDED]
    unique_ids = list({event.id for event in deliveries})
    assert await handled(ticketing.pool, unique_ids) == len(unique_ids)  # applied, none dead-lettered


async def test_a_waitlisted_registration_gets_a_voucher_only_once_promoted(ticketing):
    story = registration_events()
    await ticketing.deliver(cloud_event(story["waitlisted"]))
    assert await vouchers_of(ticketing.pool, story[C].registration_id) == []

    await ticketing.deliver(cloud_event(story[P]))
    assert [v["status"] for v in await vouchers_of(ticketing.pool, story[C].registration_id)] == ["issued"]


async def test_a_registration_that_did_not_ask_for_a_voucher_gets_none_and_no_refusal(ticketing):
    story = registration_events(wants_voucher=False, origin=None)
    await ticketing.deliver(*(cloud_event(story[name]) for name in (C, P, X)))
    assert await vouchers_of(ticketing.pool, story[C].registration_id) == []
    assert await published_types(ticketing.pool, story[C].registration_id) == []


async def test_an_organiser_cancellation_voids_with_its_own_reason(ticketing):
    story = registration_events()
    cancelled = story[X].model_copy(update={"cancelled_by": "organiser", "reason": "Trainer ill"})
    await ticketing.deliver(cloud_event(story[C]), cloud_event(cancelled))
    [voucher] = await vouchers_of(ticketing.pool, story[C].registration_id)
    assert (voucher["status"], voucher["void_reason"]) == ("void", "cancelled_by_organiser")


async def test_the_same_event_to_two_consumers_of_the_group_at_once_gives_one_voucher(two_members):
    for _ in range(10):  # several races, so both members get to reach the inbox first
        story = registration_events()
        event = cloud_event(story[C])
        await asyncio.gather(*(member.handle(record_of(event)) for member in two_members.consumers))

        assert len(await vouchers_of(two_members.pool, story[C].registration_id)) == 1
        assert await published_types(two_members.pool, story[C].registration_id) == [ISSUED]
        assert await handled(two_members.pool, [event.id]) == 1


@pytest.mark.parametrize(
    ("first", "second", "still_valid"),
    [(C, P, ["issued"]), (C, X, []), (P, X, []), (X, C, [])],
    ids=["confirmed+promoted", "confirmed+cancelled", "promoted+cancelled", "cancelled+confirmed"],
)
async def test_two_events_of_one_registration_at_once_on_two_consumers_end_as_in_some_order(
    two_members, first, second, still_valid
):
    for _ in range(10):
        story = registration_events()
        events = [cloud_event(story[first]), cloud_event(story[second])]
        await asyncio.gather(
            *(member.handle(record_of(e)) for member, e in zip(two_members.consumers, events, strict=True))
        )

        vouchers = await vouchers_of(two_members.pool, story[C].registration_id)
        assert len(vouchers) <= 1
        assert [v["status"] for v in vouchers if v["status"] == "issued"] == still_valid


async def test_two_batches_naming_two_sessions_in_opposite_orders_are_each_applied_once(infra, two_members):
    """A batch holds its locks until it commits. Taken event by event, batch A holding session 1
    and wanting session 2 while batch B held 2 and wanted 1 ended in a deadlock, one batch undone
    and done again; the batch's sessions are now locked first, all at once, in one order."""
    calls: collections.Counter[str] = collections.Counter()

    def pausing(handler):
        async def handle(conn, event, payload):
            calls[event.id] += 1
            await handler(conn, event, payload)
            await asyncio.sleep(0.3)  # holding what it locked, so the other batch starts meanwhile

        return handle

    by_event = {kind: pausing(h) for kind, h in handlers(Decimal("9.60"), two_members.signer).items()}
    first, second = (session_on(date.today() + timedelta(days=d)) for d in (7, 8))
    stories = [registration_events(session=s) for s in (first, second, second, first)]
    events = [cloud_event(story[C]) for story in stories]
    pools = [await create_pool(infra["TICKETING_DATABASE_URL"]) for _ in range(2)]
    try:
        a, b = (consumer_of(pool, two_members.producer, by_event) for pool in pools)
        await asyncio.gather(
            a.handle_batch([record_of(e) for e in events[:2]]), b.handle_batch([record_of(e) for e in events[2:]])
        )
    finally:
        for pool in pools:
            await pool.close()

    assert sorted(calls.values()) == [1, 1, 1, 1]
    for story in stories:
        assert [v["status"] for v in await vouchers_of(two_members.pool, story[C].registration_id)] == ["issued"]


@contextlib.asynccontextmanager
async def held_open(infra, ticketing, registration_id):
    """A member of the group whose batch holding `registration_id`'s confirmation stays open, its locks held,
    from `inside` being set until `release` is; yields (member, inside, release)."""
    inside, release = asyncio.Event(), asyncio.Event()
    by_event = handlers(Decimal("9.60"), ticketing.signer)
    confirm = by_event[RegistrationConfirmed]

    async def confirming(conn, event, payload):
        await confirm(conn, event, payload)
        if payload.registration_id == registration_id:
            inside.set()
            await release.wait()

    pool = await create_pool(infra["TICKETING_DATABASE_URL"])
    try:
        yield consumer_of(pool, ticketing.producer, {**by_event, RegistrationConfirmed: confirming}), inside, release
    finally:
        release.set()
        await pool.close()


async def test_two_batches_issuing_vouchers_for_one_session_are_applied_side_by_side(infra, two_members):
    """Issuing only reads the session's day, so it takes the session's lock shared: with it exclusive, every
    batch of a burst named the same sessions and the group's members took turns."""
    session = session_on(date.today() + timedelta(days=9))
    first, second = (registration_events(session=session)[C] for _ in range(2))
    async with held_open(infra, two_members, first.registration_id) as (member, inside, release):
        holding = asyncio.create_task(member.handle_batch([record_of(cloud_event(first))]))
        await asyncio.wait_for(inside.wait(), 10)

        await asyncio.wait_for(two_members.consumers[1].handle_batch([record_of(cloud_event(second))]), 5)
        assert [v["status"] for v in await vouchers_of(two_members.pool, second.registration_id)] == ["issued"]
        assert await vouchers_of(two_members.pool, first.registration_id) == []  # still uncommitted

        release.set()
        await holding
    assert [v["status"] for v in await vouchers_of(two_members.pool, first.registration_id)] == ["issued"]


async def test_a_session_move_waits_for_a_batch_issuing_for_it_and_moves_that_voucher_too(infra, two_members):
    """A voucher read the session's old day and is not yet committed when the move arrives on another member:
    the move waits for it (exclusive against shared) and then replaces it; without the wait the voucher
    would keep the old day."""
    session = session_on(date.today() + timedelta(days=10))
    confirmed = registration_events(session=session)[C]
    new_start = session.starts_at + timedelta(days=2)
    async with held_open(infra, two_members, confirmed.registration_id) as (member, inside, release):
        holding = asyncio.create_task(member.handle_batch([record_of(cloud_event(confirmed))]))
        await asyncio.wait_for(inside.wait(), 10)
        moved = cloud_event(catalog.session_changed(session, starts_at=new_start))
        moving = asyncio.create_task(two_members.consumers[1].handle_batch([record_of(moved)]))
        await asyncio.sleep(0.5)
        assert not moving.done()  # waiting for the issuing batch's lock

        release.set()
        await asyncio.gather(holding, moving)
    vouchers = sorted(await vouchers_of(two_members.pool, confirmed.registration_id), key=lambda v: v["issued_at"])
    assert [(v["status"], v["valid_on"]) for v in vouchers] == [
        ("void", session.starts_at.date()),
        ("issued", new_start.date()),
    ]


async def test_a_batch_of_admissions_issues_each_voucher_once_whatever_was_known_before(ticketing):
    """Admissions of different registrations, one after another in a batch, are decided on one read and written
    in one statement: each still gets what it would get alone, and the vouchers are announced in the batch's order."""
    fresh, cancelled, issued_before, promoted, unknown_origin, no_voucher = (
        registration_events(),
        registration_events(),
        registration_events(),
        registration_events(),
        registration_events(origin="000000000"),
        registration_events(wants_voucher=False, origin=None),
    )
    await ticketing.deliver(cloud_event(cancelled[X]), cloud_event(issued_before[C]))

    batch = [
        cloud_event(fresh[C]),
        cloud_event(cancelled[C]),
        cloud_event(issued_before[C]),  # a new copy, under a new event id
        cloud_event(promoted[P]),
        cloud_event(unknown_origin[C]),
        cloud_event(no_voucher[C]),
    ]
    await ticketing.consumers[0].handle_batch([record_of(e) for e in batch])

    async def statuses(story):
        return [v["status"] for v in await vouchers_of(ticketing.pool, story[C].registration_id)]

    assert [await statuses(s) for s in (fresh, cancelled, issued_before, promoted, unknown_origin, no_voucher)] == [
        ["issued"],
        [],
        ["issued"],
        ["issued"],
        [],
        [],
    ]
    for story, types in [(fresh, [ISSUED]), (issued_before, [ISSUED]), (unknown_origin, [REJECTED]), (cancelled, [])]:
        assert await published_types(ticketing.pool, story[C].registration_id) == types
    announced = await ticketing.pool.fetch(
        "SELECT key FROM outbox WHERE key = ANY($1::text[]) AND headers->>'ce_type' = $2 ORDER BY position",
        [str(s[C].registration_id) for s in (fresh, promoted)],
        ISSUED,
    )
    assert [row["key"] for row in announced] == [str(fresh[C].registration_id), str(promoted[C].registration_id)]
    assert await handled(ticketing.pool, [e.id for e in batch]) == len(batch)


@pytest.mark.parametrize("then", ["cancelled", "promoted", "session moved"])
async def test_an_event_after_an_admission_in_its_batch_sees_the_voucher_issued(ticketing, then):
    """A cancellation, a second admission of the registration or session news ends the admissions' stretch:
    the vouchers issued so far are written before it is handled."""
    story = registration_events()
    new_start = story[C].session.starts_at + timedelta(days=2)
    second = {
        "cancelled": story[X],
        "promoted": story[P],
        "session moved": catalog.session_changed(story[C].session, starts_at=new_start),
    }[then]
    await ticketing.consumers[0].handle_batch([record_of(cloud_event(story[C])), record_of(cloud_event(second))])

    vouchers = sorted(await vouchers_of(ticketing.pool, story[C].registration_id), key=lambda v: v["issued_at"])
    expected = {
        "cancelled": [("void", story[C].session.starts_at.date())],
        "promoted": [("issued", story[C].session.starts_at.date())],
        "session moved": [("void", story[C].session.starts_at.date()), ("issued", new_start.date())],
    }[then]
    assert [(v["status"], v["valid_on"]) for v in vouchers] == expected


async def test_an_admission_after_session_news_in_its_batch_reads_the_news(ticketing):
    """After session news, what decides the next admissions is read again: a registration told before the
    move, after it in the batch, gets its voucher on the new day, like one seated before the news."""
    seated_before = registration_events()
    session = seated_before[C].session
    told_before = registration_events(session=session)
    new_start = session.starts_at + timedelta(days=2)
    batch = [
        cloud_event(seated_before[C]),
        cloud_event(told_before[C]),
        cloud_event(catalog.session_changed(session, starts_at=new_start)),
    ]
    batch[1], batch[2] = batch[2], batch[1]  # in Kafka's order, the move before the older confirmation
    await ticketing.consumers[0].handle_batch([record_of(e) for e in batch])

    async def days(story):
        vouchers = sorted(await vouchers_of(ticketing.pool, story[C].registration_id), key=lambda v: v["issued_at"])
        return [(v["status"], v["valid_on"]) for v in vouchers]

    assert await days(seated_before) == [("void", session.starts_at.date()), ("issued", new_start.date())]
    assert await days(told_before) == [("issued", new_start.date())]


async def test_vouchers_that_cannot_be_written_fail_their_own_admission_not_the_event_after_them(
    ticketing, monkeypatch
):
    """The vouchers of a stretch are written when the next event comes: when they fail for good (here a code
    already taken), that event is not dead-lettered for them; the batch is decided again a record at a time."""
    code = new_voucher_code()
    monkeypatch.setattr("ticketing.handlers.new_voucher_code", lambda: code)
    holding, colliding = registration_events(), registration_events()
    await ticketing.deliver(cloud_event(holding[C]))  # the code is now taken
    batch = [cloud_event(colliding[C]), cloud_event(holding[X])]
    await ticketing.consumers[0].handle_batch([record_of(e) for e in batch])

    assert await vouchers_of(ticketing.pool, colliding[C].registration_id) == []
    assert [v["status"] for v in await vouchers_of(ticketing.pool, holding[C].registration_id)] == ["void"]
    assert await handled(ticketing.pool, [batch[0].id]) == 0
    assert await handled(ticketing.pool, [batch[1].id]) == 1
