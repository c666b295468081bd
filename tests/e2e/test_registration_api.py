"""The registration API over HTTP and Kafka, against the running service."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from atelier_devkit.api import admin, create_session, registration_body, unique_email
from atelier_devkit.kafka import cloud_event, headers_of, payload, publish_event, wait_for_records
from atelier_schemas import CancelRegistration, Participant, RegisterParticipant
from atelier_schemas.topics import REGISTRATION_COMMANDS, REGISTRATION_EVENTS
from support.links import cancel_proof, opened_link


@pytest.fixture
async def api(services):
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as client:
        yield client


@pytest.fixture
def token(infra):
    return infra["REGISTRATION_ADMIN_TOKEN"]


async def test_the_same_idempotency_key_replays_the_first_response_and_registers_once(api, token, registration_db):
    session_id = await create_session(api, str(api.base_url), token)
    body, key = registration_body(unique_email()), str(uuid.uuid4())
    url = f"/sessions/{session_id}/registrations"
    first = await api.post(url, json=body, headers={"Idempotency-Key": key})
    again = await api.post(url, json=body, headers={"Idempotency-Key": key})
    other = await api.post(url, json=registration_body(unique_email()), headers={"Idempotency-Key": key})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and other.json()["detail"][0]["type"] == "idempotency_key_reused"
    count = await registration_db.fetchval(
        "SELECT count(*) FROM registrations WHERE session_id = $1", uuid.UUID(session_id)
    )
    assert count == 1


async def test_a_refusal_is_replayed_for_the_same_key(api, token):
    key = str(uuid.uuid4())
    url = f"/sessions/{uuid.uuid4()}/registrations"
    first = await api.post(url, json=registration_body(unique_email()), headers={"Idempotency-Key": key})
    again = await api.post(url, json=registration_body(unique_email()), headers={"Idempotency-Key": key})
    assert first.status_code == 404 and again.status_code == 422  # a different body under the same key
    assert (await api.post(url, json={}, headers={"Idempotency-Key": ""})).status_code == 422


async def test_one_email_cannot_take_two_sessions_at_the_same_time(api, token):
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    first = await create_session(api, str(api.base_url), token, starts=starts)
    overlapping = await create_session(api, str(api.base_url), token, starts=starts + timedelta(minutes=30))
    email = unique_email()
    assert (await api.post(f"/sessions/{first}/registrations", json=registration_body(email))).status_code == 201
    clash = await api.post(f"/sessions/{overlapping}/registrations", json=registration_body(email))
    assert clash.status_code == 409 and "same time" in clash.json()["detail"]


async def test_a_cancelled_session_refuses_registrations(api, token):
    session_id = await create_session(api, str(api.base_url), token)
    cancelled = await api.post(
        f"/admin/sessions/{session_id}/cancel", json={"reason": "Trainer ill"}, headers=admin(token)
    )
    assert cancelled.status_code == 200
    refused = await api.post(f"/sessions/{session_id}/registrations", json=registration_body(unique_email()))
    assert refused.status_code == 409 and refused.json()["detail"] == "this session was cancelled"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/workshops"),
        ("PATCH", f"/admin/workshops/{uuid.uuid4()}"),
        ("POST", f"/admin/workshops/{uuid.uuid4()}/cancel"),
        ("POST", "/admin/sessions"),
        ("PATCH", f"/admin/sessions/{uuid.uuid4()}"),
        ("POST", f"/admin/sessions/{uuid.uuid4()}/cancel"),
        ("POST", "/admin/coaching-slots"),
        ("POST", "/admin/check-ins"),
        ("GET", "/admin/report"),
    ],
)
async def test_every_admin_endpoint_needs_the_admin_token(api, method, path):
    anonymous = await api.request(method, path, json={})
    wrong = await api.request(method, path, json={}, headers={"Authorization": "Bearer not-the-token"})
    assert (anonymous.status_code, wrong.status_code) == (401, 403)


async def test_the_participant_sees_their_place_in_line_and_a_cancellation_promotes_the_next(api, token):
    session_id = await create_session(api, str(api.base_url), token, capacity=1)
    seated = (await api.post(f"/sessions/{session_id}/registrations", json=registration_body(unique_email()))).json()
    waiting = (await api.post(f"/sessions/{session_id}/registrations", json=registration_body(unique_email()))).json()
    assert (seated["status"], waiting["status"], waiting["waitlist_position"]) == ("confirmed", "waitlisted", 1)

    mine = await api.get(f"/registrations/{waiting['registration_id']}", params={"token": waiting["manage_token"]})
    assert mine.json()["waitlist_position"] == 1
    stranger = await api.get(f"/registrations/{waiting['registration_id']}", params={"token": seated["manage_token"]})
    assert stranger.status_code == 404

    cancel = await api.post(
        f"/registrations/{seated['registration_id']}/cancel", params={"token": seated["manage_token"]}
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    promoted = await api.get(f"/registrations/{waiting['registration_id']}", params={"token": waiting["manage_token"]})
    assert promoted.json()["status"] == "confirmed" and promoted.json()["waitlist_position"] is None


async def test_programme_filters_show_seats_left_and_waitlist_length(api, token):
    # A day of its own, far enough ahead that no other test plans sessions on it.
    day_ahead = (datetime.now(UTC) + timedelta(days=600 + uuid.uuid4().int % 90)).date()
    starts = datetime.combine(day_ahead, time(8), UTC) + timedelta(minutes=uuid.uuid4().int % 500)
    full = await create_session(
        api, str(api.base_url), token, capacity=1, starts=starts, language="en", topic="social_media"
    )
    open_ = await create_session(
        api,
        str(api.base_url),
        token,
        capacity=3,
        starts=starts + timedelta(hours=3),
        language="en",
        topic="social_media",
    )
    for _ in range(2):
        await api.post(f"/sessions/{full}/registrations", json=registration_body(unique_email()))
    day = {"date_from": str(day_ahead), "date_to": str(day_ahead), "topic": "social_media", "language": "en"}
    listed = {s["id"]: s for s in (await api.get("/sessions", params=day)).json()}
    assert (listed[full]["seats_left"], listed[full]["waitlist_length"]) == (0, 1)
    assert listed[open_]["seats_left"] == 3
    with_seats = {s["id"] for s in (await api.get("/sessions", params={**day, "with_seats_left": True})).json()}
    assert open_ in with_seats and full not in with_seats
    assert (await api.get("/sessions", params={"topic": "knitting"})).status_code == 422


async def test_check_in_records_attendance_once_and_the_report_counts_the_person(api, token):
    session_id = await create_session(api, str(api.base_url), token)
    registered = (
        await api.post(f"/sessions/{session_id}/registrations", json=registration_body(unique_email()))
    ).json()
    before = (await api.get("/admin/report", headers=admin(token))).json()["people_trained"]
    first = await api.post("/admin/check-ins", json={"code": registered["code"]}, headers=admin(token))
    second = await api.post("/admin/check-ins", json={"code": registered["code"]}, headers=admin(token))
    assert (first.json()["recorded_now"], second.json()["recorded_now"]) == (True, False)
    after = (await api.get("/admin/report", headers=admin(token))).json()
    assert after["people_trained"] == before + 1 and after["target"] == 10_000
    unknown = await api.post("/admin/check-ins", json={"code": "R-NOPE0000"}, headers=admin(token))
    assert unknown.status_code == 404


async def test_other_services_register_and_cancel_through_kafka_commands(api, token, infra):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    session_id = await create_session(api, str(api.base_url), token)
    email = unique_email()
    register = RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=uuid.UUID(session_id),
        participant=Participant(name="Noor El Idrissi", email=email, language="nl"),
    )
    await publish_event(bootstrap, cloud_event(register), register.key(), REGISTRATION_COMMANDS)
    await publish_event(bootstrap, cloud_event(register), register.key(), REGISTRATION_COMMANDS)  # sent twice
    confirmed = await wait_for_records(
        bootstrap,
        REGISTRATION_EVENTS,
        lambda r: (
            headers_of(r)["ce_type"] == "be.atelier.registration.confirmed.v1"
            and payload(r).get("participant", {}).get("email") == email
        ),
    )
    assert len(confirmed) == 1
    registration_id = payload(confirmed[0])["registration_id"]

    unproven = CancelRegistration(command_id=uuid.uuid4(), registration_id=uuid.UUID(registration_id))
    await publish_event(bootstrap, cloud_event(unproven), unproven.key(), REGISTRATION_COMMANDS)
    [refused] = await wait_for_records(
        bootstrap, REGISTRATION_EVENTS, lambda r: payload(r).get("command_id") == str(unproven.command_id)
    )
    assert headers_of(refused)["ce_type"] == "be.atelier.registration.rejected.v1"
    assert payload(refused)["reason"] == "invalid" and payload(refused)["detail"].startswith("proof missing")

    # The participant's token, from the link only notifications can open (the command's producer asks them for it).
    token = opened_link(infra, payload(confirmed[0])["sealed_manage_url"]).rpartition("#token=")[2]
    proof = cancel_proof(infra, token)
    cancel = CancelRegistration(command_id=uuid.uuid4(), registration_id=uuid.UUID(registration_id), proof=proof)
    await publish_event(bootstrap, cloud_event(cancel), cancel.key(), REGISTRATION_COMMANDS)
    cancelled = await wait_for_records(
        bootstrap,
        REGISTRATION_EVENTS,
        lambda r: r.key == registration_id.encode() and headers_of(r)["ce_type"].endswith("cancelled.v1"),
    )
    assert payload(cancelled[0])["cancelled_by"] == "participant"

    unknown = RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        participant=Participant(name="X", email=unique_email(), language="fr"),
    )
    await publish_event(bootstrap, cloud_event(unknown), unknown.key(), REGISTRATION_COMMANDS)
    rejected = await wait_for_records(
        bootstrap, REGISTRATION_EVENTS, lambda r: r.key == str(unknown.command_id).encode()
    )
    assert headers_of(rejected[0])["ce_type"] == "be.atelier.registration.rejected.v1"
    assert payload(rejected[0])["reason"] == "unknown_session"
