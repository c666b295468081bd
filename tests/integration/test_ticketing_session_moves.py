"""Ticketing's consumer on real Postgres: a voucher follows its session's day, whatever the order in
which the session change and the registration's events arrive, and older news never wins."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from atelier_devkit import notification_events as catalog
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import registration_events
from support.ticketing import ISSUED, VOIDED, published, published_types, running_ticketing
from support.ticketing import vouchers_of as _vouchers_of
from ticketing.clock import brussels_date
from ticketing.signing import verify_qr_payload

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # when registration wrote the confirmation


@pytest.fixture(scope="module")
async def ticketing(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing


def written_at(message, at: datetime):
    """The event as its producer wrote it at `at` (a replay keeps that time; it gets a new id here)."""
    return replace(cloud_event(message), time=at)


async def vouchers_of(ticketing, registration_id):
    return sorted(await _vouchers_of(ticketing.pool, registration_id), key=lambda v: v["issued_at"])


async def test_a_session_moved_to_another_day_voids_the_voucher_and_issues_a_new_signed_one(ticketing):
    story = registration_events()
    confirmed = story["confirmed"]
    new_start = confirmed.session.starts_at + timedelta(days=2)
    moved = catalog.session_changed(confirmed.session, starts_at=new_start)

    await ticketing.deliver(written_at(confirmed, T0), written_at(moved, T0 + timedelta(minutes=5)))

    old, new = await vouchers_of(ticketing, confirmed.registration_id)
    assert (old["status"], old["void_reason"]) == ("void", "session_moved")
    assert (new["status"], new["valid_on"], new["replaces"]) == ("issued", brussels_date(new_start), old["id"])
    assert new["code"] != old["code"] and new["holder_name"] == old["holder_name"]
    assert await published_types(ticketing.pool, confirmed.registration_id) == [ISSUED, VOIDED, ISSUED]
    [voided] = await published(ticketing.pool, confirmed.registration_id, VOIDED)
    assert (voided["reason"], voided["replaced_by"]) == ("session_moved", str(new["id"]))
    first, reissued = await published(ticketing.pool, confirmed.registration_id, ISSUED)
    assert (first["replaces"], reissued["replaces"], reissued["reason"]) == (None, str(old["id"]), "session_moved")
    facts = verify_qr_payload(reissued["qr_payload"], ticketing.signer.public_key)
    assert (facts["c"], facts["d"]) == (new["code"], brussels_date(new_start).isoformat())


@pytest.mark.parametrize("confirmation_written", ["before the change", "after the change"])
async def test_a_change_read_before_the_confirmation_gives_one_voucher_for_the_new_day(ticketing, confirmation_written):
    story = registration_events()
    confirmed = story["confirmed"]
    new_start = confirmed.session.starts_at + timedelta(days=3)
    moved = catalog.session_changed(confirmed.session, starts_at=new_start)
    if confirmation_written == "after the change":  # then it carries the new facts itself
        confirmed = confirmed.model_copy(
            update={"session": confirmed.session.model_copy(update={"starts_at": new_start})}
        )
    confirmed_at = (
        T0 - timedelta(minutes=1) if confirmation_written == "before the change" else T0 + timedelta(minutes=1)
    )

    await ticketing.deliver(written_at(moved, T0), written_at(confirmed, confirmed_at))

    [voucher] = await vouchers_of(ticketing, confirmed.registration_id)
    assert (voucher["status"], voucher["valid_on"]) == ("issued", brussels_date(new_start))
    assert await published_types(ticketing.pool, confirmed.registration_id) == [ISSUED]


async def test_a_move_within_the_same_day_keeps_the_voucher(ticketing):
    confirmed = registration_events()["confirmed"]
    later_that_day = catalog.session_changed(
        confirmed.session, starts_at=confirmed.session.starts_at + timedelta(hours=3)
    )

    await ticketing.deliver(written_at(confirmed, T0), written_at(later_that_day, T0 + timedelta(minutes=5)))

    [voucher] = await vouchers_of(ticketing, confirmed.registration_id)
    assert voucher["status"] == "issued" and voucher["valid_on"] == brussels_date(confirmed.session.starts_at)
    assert await published_types(ticketing.pool, confirmed.registration_id) == [ISSUED]


async def test_older_news_replayed_after_newer_changes_no_voucher_and_publishes_nothing(ticketing):
    confirmed = registration_events()["confirmed"]
    first_move = catalog.session_changed(confirmed.session, starts_at=confirmed.session.starts_at + timedelta(days=1))
    second_move = catalog.session_changed(confirmed.session, starts_at=confirmed.session.starts_at + timedelta(days=2))
    await ticketing.deliver(
        written_at(confirmed, T0),
        written_at(first_move, T0 + timedelta(minutes=1)),
        written_at(second_move, T0 + timedelta(minutes=2)),
    )
    before = await published_types(ticketing.pool, confirmed.registration_id)

    # make replay-dlq after a fix: the old change and the old confirmation come back after the newer news
    await ticketing.deliver(written_at(first_move, T0 + timedelta(minutes=1)), written_at(confirmed, T0))

    vouchers = await vouchers_of(ticketing, confirmed.registration_id)
    assert [(v["status"], v["valid_on"]) for v in vouchers if v["status"] == "issued"] == [
        ("issued", brussels_date(second_move.session.starts_at))
    ]
    assert len(vouchers) == 3
    assert await published_types(ticketing.pool, confirmed.registration_id) == before
    assert before == [ISSUED, VOIDED, ISSUED, VOIDED, ISSUED]


async def test_a_cancelled_session_voids_every_voucher_and_a_late_confirmation_gets_none(ticketing):
    first = registration_events()["confirmed"]
    second = registration_events(session=first.session)["confirmed"]
    late = registration_events(session=first.session)["confirmed"]
    await ticketing.deliver(written_at(first, T0), written_at(second, T0))

    await ticketing.deliver(written_at(catalog.session_cancelled(first.session), T0 + timedelta(minutes=5)))
    await ticketing.deliver(written_at(late, T0))  # read late, written before the cancellation

    for registration in (first, second):
        [voucher] = await vouchers_of(ticketing, registration.registration_id)
        assert (voucher["status"], voucher["void_reason"]) == ("void", "session_cancelled")
        assert await published_types(ticketing.pool, registration.registration_id) == [ISSUED, VOIDED]
    assert await vouchers_of(ticketing, late.registration_id) == []
