"""The registration API: capacity under concurrency, and bad input changes nothing."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from atelier_devkit.api import create_session, registration_body, unique_email


async def test_fifty_concurrent_registrations_for_ten_seats_confirm_ten_and_queue_forty(
    infra, services, registration_db
):
    base = services["registration"]
    async with httpx.AsyncClient(timeout=30) as client:
        session_id = await create_session(client, base, infra["REGISTRATION_ADMIN_TOKEN"], capacity=10)
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{base}/sessions/{session_id}/registrations", json=registration_body(unique_email(), voucher=False)
                )
                for _ in range(50)
            )
        )
    assert {r.status_code for r in responses} == {201}
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("confirmed") == 10 and statuses.count("waitlisted") == 40
    positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["status"] == "waitlisted")
    assert positions == list(range(1, 41))
    confirmed = await registration_db.fetchval(
        "SELECT count(*) FROM registrations WHERE session_id = $1 AND status = 'confirmed'", uuid.UUID(session_id)
    )
    assert confirmed == 10


async def test_bad_input_is_refused_with_a_reason_and_stores_nothing(infra, services, registration_db):
    base = services["registration"]
    email = unique_email()
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, base, infra["REGISTRATION_ADMIN_TOKEN"])
        url = f"{base}/sessions/{session_id}/registrations"
        missing = await client.post(url, json={"email": email, "language": "fr"})
        bad_email = await client.post(url, json=registration_body("not-an-email"))
        no_station = await client.post(url, json={**registration_body(email), "origin_station_id": None})
        unknown = await client.post(f"{base}/sessions/{uuid.uuid4()}/registrations", json=registration_body(email))
        bad_id = await client.post(f"{base}/sessions/nope/registrations", json=registration_body(email))

    assert missing.status_code == 422
    assert [e["loc"][-1] for e in missing.json()["detail"]] == ["name"]
    assert bad_email.status_code == 422 and bad_email.json()["detail"][0]["loc"][-1] == "email"
    assert no_station.status_code == 422 and "origin_station_id" in no_station.text
    assert unknown.status_code == 404 and "does not exist" in unknown.json()["detail"]
    assert bad_id.status_code == 422
    stored = await registration_db.fetchval(
        "SELECT count(*) FROM registrations WHERE session_id = $1 OR email = $2", uuid.UUID(session_id), email
    )
    assert stored == 0


async def test_the_same_email_cannot_hold_two_seats_in_one_session(infra, services):
    base = services["registration"]
    email = unique_email()
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, base, infra["REGISTRATION_ADMIN_TOKEN"])
        url = f"{base}/sessions/{session_id}/registrations"
        first = await client.post(url, json=registration_body(email))
        second = await client.post(url, json=registration_body(email.upper()))
    assert first.status_code == 201
    assert second.status_code == 409 and "already holds a registration" in second.json()["detail"]


async def test_the_admin_api_needs_the_token(infra, services):
    base = services["registration"]
    async with httpx.AsyncClient() as client:
        anonymous = await client.post(f"{base}/admin/sessions", json={})
        wrong = await client.post(f"{base}/admin/sessions", json={}, headers={"Authorization": "Bearer wrong"})
    assert anonymous.status_code == 401
    assert wrong.status_code == 403
