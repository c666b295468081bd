"""Organisers find a person's registrations by email and cancel one; its seat goes to the first in line."""

from __future__ import annotations

import uuid

import httpx
from atelier_devkit.api import admin, create_session, registration_body, unique_email
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_schemas.topics import REGISTRATION_EVENTS


async def test_an_organiser_finds_a_person_and_cancels_one_registration_giving_the_seat_to_the_first_in_line(
    services, infra
):
    base, token = services["registration"], infra["REGISTRATION_ADMIN_TOKEN"]
    seated_email, waiting_email = unique_email(), unique_email()
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        session_id = await create_session(api, base, token, capacity=1)
        url = f"/sessions/{session_id}/registrations"
        seated = (await api.post(url, json=registration_body(seated_email, voucher=False))).json()
        waiting = (await api.post(url, json=registration_body(waiting_email, voucher=False))).json()

        found = await api.get("/admin/registrations", params={"email": seated_email.upper()}, headers=admin(token))
        nobody = await api.get("/admin/registrations", params={"email": unique_email()}, headers=admin(token))
        cancel = f"/admin/registrations/{seated['registration_id']}/cancel"
        first = await api.post(cancel, json={"reason": "Asked by phone"}, headers=admin(token))
        again = await api.post(cancel, json={"reason": "Asked by phone"}, headers=admin(token))
        promoted = await api.get(
            f"/registrations/{waiting['registration_id']}", params={"token": waiting["manage_token"]}
        )
        unknown = await api.post(
            f"/admin/registrations/{uuid.uuid4()}/cancel", json={"reason": "x"}, headers=admin(token)
        )
        anonymous = await api.get("/admin/registrations", params={"email": seated_email})

    assert found.status_code == 200
    [row] = found.json()
    assert (row["registration_id"], row["status"], row["email"]) == (
        seated["registration_id"],
        "confirmed",
        seated_email,
    )
    assert row["session_id"] == session_id and row["name"] == "Lena Peeters"
    assert nobody.json() == []
    assert (first.status_code, first.json()["cancelled_now"]) == (200, True)
    assert (again.status_code, again.json()["cancelled_now"]) == (200, False)
    assert promoted.json()["status"] == "confirmed"
    assert unknown.status_code == 404 and anonymous.status_code == 401

    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    [cancelled] = await wait_for_records(
        bootstrap,
        REGISTRATION_EVENTS,
        lambda r: r.key == seated["registration_id"].encode() and headers_of(r)["ce_type"].endswith(".cancelled.v1"),
    )
    assert payload(cancelled)["cancelled_by"] == "organiser" and payload(cancelled)["reason"] == "Asked by phone"
    [moved_up] = await wait_for_records(
        bootstrap,
        REGISTRATION_EVENTS,
        lambda r: r.key == waiting["registration_id"].encode() and headers_of(r)["ce_type"].endswith(".promoted.v1"),
    )
    assert payload(moved_up)["participant"]["email"] == waiting_email
