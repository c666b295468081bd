"""A voucher's life through Kafka, with ticketing running as a real process."""

from __future__ import annotations

import httpx
from atelier_devkit.kafka import headers_of, payload, read_topic, wait_for_records
from atelier_devkit.registration_events import registration_events
from atelier_schemas.topics import REGISTRATION_EVENTS, TICKETING_EVENTS, dead_letter
from support.ticketing import (
    ISSUED,
    REJECTED,
    VOIDED,
    of_registration,
    publish,
    published_types,
    vouchers_of,
    wait_until_handled,
)
from ticketing.signing import public_key_from_jwk, verify_qr_payload


async def test_a_voucher_cancelled_after_issue_is_voided_and_both_events_go_out_in_order(infra, services, ticketing_db):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    story = registration_events()
    await publish(bootstrap, story["confirmed"], story["cancelled"])

    records = await wait_for_records(
        bootstrap, TICKETING_EVENTS, of_registration(story["confirmed"].registration_id), count=2
    )
    assert [headers_of(r)["ce_type"] for r in records] == [ISSUED, VOIDED]
    issued, voided = (payload(r) for r in records)
    assert (voided["code"], voided["reason"]) == (issued["code"], "registration_cancelled")
    async with httpx.AsyncClient() as client:
        looked_up = await client.get(f"{services['ticketing']}/vouchers/{issued['code']}")
    assert looked_up.json()["status"] == "void"


async def test_a_cancellation_that_arrives_before_its_confirmation_leaves_no_voucher(infra, services, ticketing_db):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    story = registration_events()
    events = await publish(bootstrap, story["cancelled"], story["confirmed"], story["promoted"])

    assert await wait_until_handled(ticketing_db, [e.id for e in events]) == 3
    registration_id = story["confirmed"].registration_id
    assert await vouchers_of(ticketing_db, registration_id) == []
    assert await published_types(ticketing_db, registration_id) == []
    assert [r for r in await read_topic(bootstrap, TICKETING_EVENTS) if of_registration(registration_id)(r)] == []


async def test_a_promoted_registration_gets_a_voucher_whose_qr_payload_verifies_with_the_published_key(infra, services):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    story = registration_events(origin="008814001", holder="Sam Janssens")
    await publish(bootstrap, story["waitlisted"], story["promoted"])

    [record] = await wait_for_records(bootstrap, TICKETING_EVENTS, of_registration(story["promoted"].registration_id))
    issued = payload(record)
    assert (issued["origin_name_fr"], issued["origin_name_nl"]) == ("Bruxelles-Midi", "Brussel-Zuid")
    async with httpx.AsyncClient() as client:
        [jwk] = (await client.get(f"{services['ticketing']}/keys")).json()["keys"]
    facts = verify_qr_payload(issued["qr_payload"], public_key_from_jwk(jwk))
    assert (facts["k"], facts["c"], facts["h"], facts["o"]) == (jwk["kid"], issued["code"], "Sam Janssens", "008814001")


async def test_an_unknown_origin_is_refused_with_its_reason_and_never_dead_lettered(infra, services, ticketing_db):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    story = registration_events(origin="009999999")
    events = await publish(bootstrap, story["confirmed"])

    [record] = await wait_for_records(bootstrap, TICKETING_EVENTS, of_registration(story["confirmed"].registration_id))
    assert headers_of(record)["ce_type"] == REJECTED
    assert (payload(record)["reason"], payload(record)["origin_station_id"]) == ("unknown_station", "009999999")
    assert await wait_until_handled(ticketing_db, [e.id for e in events]) == 1
    dead = await read_topic(bootstrap, dead_letter(REGISTRATION_EVENTS))
    assert [r for r in dead if of_registration(story["confirmed"].registration_id)(r)] == []
