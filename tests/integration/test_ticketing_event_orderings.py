"""Ticketing's consumer on real Postgres: whatever the order and however often the events of a
registration arrive, it ends with the one right voucher state."""

from __future__ import annotations

import asyncio
from itertools import permutations

import pytest
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import registration_events
from support.ticketing import ISSUED, VOIDED, handled, published_types, record_of, running_ticketing, vouchers_of

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
