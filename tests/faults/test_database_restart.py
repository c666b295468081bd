"""Postgres crashed (`pg_ctl stop -m immediate`) or shut down cleanly (`-m fast`) and started again
while registrations arrive over HTTP and ticketing and notifications handle their events."""

from __future__ import annotations

import asyncio

import pytest
from atelier_devkit import tally
from atelier_devkit.traffic import answered, create_sessions, register_all, registrations_for
from support.delivery import messages_in_flight

DOWN_SECONDS = 5


@pytest.mark.parametrize("mode", ["immediate", "fast"])
async def test_a_database_restart_mid_burst_keeps_every_201_and_dead_letters_nothing(faults, mode):
    env, registration = faults.env, faults.services["registration"]
    since = await tally.baseline(env)
    # 160 seats for 200 people: the last 40 wait, so seats are counted under the restart too.
    sessions = await create_sessions(registration.url, env["REGISTRATION_ADMIN_TOKEN"], 4, capacity=40)
    registrations = registrations_for(sessions, 200)
    traffic = asyncio.create_task(register_all(registration.url, registrations, per_second=30))
    await answered(registrations, 60)
    await asyncio.to_thread(faults.stop_postgres, mode)
    await asyncio.sleep(DOWN_SECONDS)
    await asyncio.to_thread(faults.start_postgres)
    await traffic

    assert sum(r.unanswered for r in registrations) == 0  # every request got an answer, if only a 5xx
    assert [r for r in registrations if r.status != 201] == []
    accepted = [r.registration_id for r in registrations]

    async def take():
        expected = await tally.expected_from_registrations(env, accepted)
        return await tally.count(env, since, expected, accepted=accepted, session_ids=sessions)

    outcome, _ = await tally.settle(take, timeout=180)
    assert (outcome.accepted, outcome.rows, outcome.missing_rows) == (200, 200, 0)
    assert (outcome.confirmed, outcome.waitlisted) == (160, 40)
    assert (outcome.overbooked, outcome.seats_not_matching_rows) == (0, 0)
    assert outcome.dead_letters == 0, faults.log_tails()
    assert outcome.unsent_outbox == 0, faults.log_tails()
    assert outcome.vouchers == 160 and outcome.missing_vouchers == 0, faults.log_tails()
    assert outcome.messages_by_kind == {
        "registration_confirmed": 160,
        "voucher_issued": 160,
        "registration_waitlisted": 40,
    }, faults.log_tails()
    assert (outcome.lost, outcome.duplicated) == (0, 0)
    # A send whose "sent" commit the restart cut goes again, with its Message-ID: at most one per SMTP connection
    # of each delivery round in hand.
    print(f"resent copies (same Message-ID): {outcome.resent_copies}")
    assert outcome.resent_copies <= messages_in_flight()
    assert await faults.health() == dict.fromkeys(faults.services, 200), faults.log_tails()
