"""The rail operator's side over HTTP: look-ups, conductor scans, their limits; stations and keys.

Each test calls from its own loopback address: look-ups are limited per client address.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_devkit.registration_events import brussels_today, registration_events, session_on
from atelier_schemas.topics import TICKETING_EVENTS
from support.ticketing import VALIDATED, client_from, of_registration, publish
from ticketing.codes import new_voucher_code


def mistype(code: str) -> str:
    """The code with its last character typed wrong."""
    return code[:-1] + ("3" if code.endswith("2") else "2")


VOUCHER_FIELDS = {"code", "status", "holder_name", "origin_station_id", "origin_name_fr", "origin_name_nl", "valid_on"}


@pytest.fixture
def conductor(infra) -> dict[str, str]:
    return {"Authorization": f"Bearer {infra['TICKETING_CONDUCTOR_TOKEN']}"}


async def voucher_for(infra, *messages) -> dict:
    """Publish a registration's events; the TicketIssued that followed."""
    await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], *messages)
    issued = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, of_registration(messages[0].registration_id)
    )
    return payload(issued[0])


async def test_a_conductor_validates_a_voucher_on_its_day_once(infra, services, conductor):
    today = registration_events(session=session_on(brussels_today()))
    code = (await voucher_for(infra, today["confirmed"]))["code"]

    async with client_from("127.0.0.21") as client:
        first = await client.post(f"{services['ticketing']}/vouchers/{code}/scan", headers=conductor)
        second = await client.post(f"{services['ticketing']}/vouchers/{code}/scan", headers=conductor)
        looked_up = await client.get(f"{services['ticketing']}/vouchers/{code}")

    assert first.status_code == 200, first.text
    assert (first.json()["result"], first.json()["voucher"]["status"]) == ("validated", "used")
    assert second.status_code == 409
    assert (second.json()["result"], second.json()["used_at"]) == ("already_used", first.json()["used_at"])
    assert looked_up.json()["status"] == "used"
    records = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, of_registration(today["confirmed"].registration_id), count=2
    )
    assert [headers_of(r)["ce_type"] for r in records][1:] == [VALIDATED]


async def test_a_scan_is_refused_with_its_reason(infra, services, conductor):
    next_week = registration_events(session=session_on(brussels_today() + timedelta(days=7)))
    cancelled_today = registration_events(session=session_on(brussels_today()))
    not_today = (await voucher_for(infra, next_week["confirmed"]))["code"]
    await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], cancelled_today["confirmed"], cancelled_today["cancelled"])
    issued_then_voided = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"],
        TICKETING_EVENTS,
        of_registration(cancelled_today["confirmed"].registration_id),
        count=2,
    )
    void = payload(issued_then_voided[0])["code"]
    base = services["ticketing"]

    async with client_from("127.0.0.22") as client:
        wrong_date = await client.post(f"{base}/vouchers/{not_today}/scan", headers=conductor)
        voided = await client.post(f"{base}/vouchers/{void}/scan", headers=conductor)
        unknown = await client.post(f"{base}/vouchers/{new_voucher_code()}/scan", headers=conductor)
        mistyped = await client.post(f"{base}/vouchers/{mistype(not_today)}/scan", headers=conductor)
        no_token = await client.post(f"{base}/vouchers/{not_today}/scan")
        wrong_token = await client.post(f"{base}/vouchers/{not_today}/scan", headers={"Authorization": "Bearer nope"})
        still = await client.get(f"{base}/vouchers/{not_today}")

    assert (wrong_date.status_code, wrong_date.json()["result"]) == (409, "wrong_date")
    assert wrong_date.json()["voucher"]["valid_on"] == str(brussels_today() + timedelta(days=7))
    assert (voided.status_code, voided.json()["result"]) == (409, "void")
    assert (unknown.status_code, unknown.json()["result"]) == (404, "unknown")
    assert mistyped.status_code == 400
    assert (no_token.status_code, wrong_token.status_code) == (401, 403)
    assert still.json()["status"] == "issued"  # refused scans change nothing


async def test_a_look_up_tells_status_holder_origin_and_date_and_nothing_more(infra, services):
    story = registration_events(origin="008841004", holder="Camille Dubois")
    issued = await voucher_for(infra, story["confirmed"])

    async with client_from("127.0.0.23") as client:
        found = await client.get(f"{services['ticketing']}/vouchers/{issued['code'].lower().replace('-', ' ')}")
        mistyped = await client.get(f"{services['ticketing']}/vouchers/{mistype(issued['code'])}")

    assert found.status_code == 200
    assert found.json() == {
        "code": issued["code"],
        "status": "issued",
        "holder_name": "Camille Dubois",
        "origin_station_id": "008841004",
        "origin_name_fr": "Liège-Guillemins",
        "origin_name_nl": "Luik-Guillemins",
        "valid_on": issued["valid_on"],
    }
    assert set(found.json()) == VOUCHER_FIELDS
    assert mistyped.status_code == 400


async def test_look_ups_and_scans_are_limited_per_client_address(services, conductor):
    base = services["ticketing"]
    unknown = new_voucher_code()
    async with client_from("127.0.0.24") as greedy, client_from("127.0.0.25") as other:
        answers = []
        for _ in range(120):  # the default burst is 30, refilled at one every two seconds
            answers.append(await greedy.get(f"{base}/vouchers/{unknown}"))
            if answers[-1].status_code == 429:
                break
        scan = await greedy.post(f"{base}/vouchers/{unknown}/scan", headers=conductor)
        elsewhere = await other.get(f"{base}/vouchers/{unknown}")

    assert [a.status_code for a in answers[:30]] == [404] * 30
    assert answers[-1].status_code == 429
    assert int(answers[-1].headers["Retry-After"]) >= 1
    assert scan.status_code == 429
    assert elsewhere.status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("liege", "008841004"),
        ("LUIK", "008841004"),
        ("bruxelles midi", "008814001"),
        ("Brussel-Zuid", "008814001"),
        ("anvers", "008821006"),
        ("Antwerpen Centraal", "008821006"),
    ],
)
async def test_stations_are_found_by_either_name_whatever_the_accents_and_case(services, query, expected):
    async with client_from("127.0.0.26") as client:
        found = await client.get(f"{services['ticketing']}/stations", params={"q": query})
    assert found.status_code == 200
    assert expected in [s["id"] for s in found.json()]
    assert {"id", "name_fr", "name_nl"} == set(found.json()[0])


async def test_a_station_search_without_a_match_is_empty(services):
    async with client_from("127.0.0.26") as client:
        found = await client.get(f"{services['ticketing']}/stations", params={"q": "zzqx"})
    assert (found.status_code, found.json()) == (200, [])
