"""Hostile or careless input gets a clear 4xx and leaves no personal data in logs or dead-letter headers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from atelier_devkit.api import admin, create_session, create_workshop, registration_body
from atelier_devkit.kafka import cloud_event, headers_of, payload, publish_event, publish_raw, wait_for_records
from atelier_devkit.notification_events import confirmed
from atelier_schemas import Participant, RegisterParticipant, RegistrationConfirmed
from atelier_schemas.topics import REGISTRATION_COMMANDS, REGISTRATION_EVENTS, dead_letter

BIG = 10 * 1024 * 1024


@pytest.mark.parametrize("service", ["registration", "ticketing", "notifications", "web"])
async def test_a_body_over_the_limit_gets_413_before_it_is_parsed(services, service):
    async with httpx.AsyncClient(base_url=services[service], timeout=30) as client:
        announced = await client.post("/sessions/x/registrations", content=b"{" + b" " * BIG)

        async def chunks():
            for _ in range(BIG // 65536):
                yield b" " * 65536

        streamed = await client.post("/sessions/x/registrations", content=chunks())  # no Content-Length
        healthy = await client.get("/healthz")
    assert (announced.status_code, streamed.status_code) == (413, 413)
    assert len(announced.content) < 200
    assert healthy.status_code == 200


async def test_a_422_names_the_field_and_never_repeats_the_input(services, infra):
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        session_id = await create_session(api, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        long_name = "Zq" * 30_000  # 60 kB: under the body limit, over the name's
        answer = await api.post(
            f"/sessions/{session_id}/registrations", json={**registration_body("a@example.be"), "name": long_name}
        )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "name"]
    assert "Zq" not in answer.text and len(answer.content) < 1000


@pytest.mark.parametrize("name", ["Lena\x00Peeters", "Lena\ud800Peeters", "Lena\r\nBcc: x@example.be", "\x85"])
async def test_control_characters_and_lone_surrogates_in_text_get_422(services, infra, name):
    body = json.dumps({**registration_body("a@example.be"), "name": name}).encode()  # \ud800 escaped as JSON allows
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        token = infra["REGISTRATION_ADMIN_TOKEN"]
        session_id = await create_session(api, services["registration"], token)
        person = await api.post(
            f"/sessions/{session_id}/registrations", content=body, headers={"Content-Type": "application/json"}
        )
        workshop = await api.post(
            "/admin/workshops",
            content=json.dumps({**_workshop(), "title_en": name}).encode(),
            headers={**admin(token), "Content-Type": "application/json"},
        )
    assert (person.status_code, workshop.status_code) == (422, 422)


async def test_a_manage_token_with_a_control_character_gets_422(services):
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        answer = await api.get(f"/registrations/{uuid.uuid4()}", params={"token": "k3J9\x00"})
    assert answer.status_code == 422


async def test_descriptions_keep_their_line_breaks(services, infra):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        created = await api.post(
            "/admin/workshops", json={**_workshop(), "description_en": "Line one\r\n\tLine two"}, headers=admin(token)
        )
    assert created.status_code == 201 and created.json()["description_en"] == "Line one\r\n\tLine two"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
async def test_a_programme_filter_outside_the_century_gets_422(services, day):
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        answers = [await api.get("/sessions", params={field: day}) for field in ("date_from", "date_to")]
    assert [a.status_code for a in answers] == [422, 422]


@pytest.mark.parametrize("year", [43, 9983, datetime.now(UTC).year + 3, datetime.now(UTC).year - 2])
async def test_sessions_far_in_the_past_or_future_get_422_and_are_not_planned(services, infra, registration_db, year):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    room = f"Room {uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        workshop_id = await create_workshop(api, services["registration"], token)
        starts = f"{year:04d}-06-01T10:00:00+02:00"
        planned = await api.post(
            "/admin/sessions",
            json={
                "workshop_id": workshop_id,
                "starts_at": starts,
                "ends_at": f"{year:04d}-06-01T12:00:00+02:00",
                "room": room,
                "language": "fr",
                "capacity": 5,
            },
            headers=admin(token),
        )
        session_id = await create_session(api, services["registration"], token)
        moved = await api.patch(
            f"/admin/sessions/{session_id}",
            json={"starts_at": starts, "ends_at": f"{year:04d}-06-01T12:00:00+02:00"},
            headers=admin(token),
        )
    assert (planned.status_code, moved.status_code) == (422, 422)
    assert await registration_db.fetchval("SELECT count(*) FROM sessions WHERE room = $1", room) == 0


async def test_no_email_name_or_phone_of_a_run_reaches_a_service_log_or_a_dead_letter_header(
    services, infra, service_logs
):
    """Register, then send a poison event and a refused command carrying the same person: none of it is logged."""
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    marker = uuid.uuid4().hex[:10]
    email, name, phone = f"pii-{marker}@example.be", f"Zyxwa Qorvel{marker}", f"+32 470 {int(marker, 16) % 10**6:06d}"
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as api:
        session_id = await create_session(api, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        registered = await api.post(
            f"/sessions/{session_id}/registrations",
            json={**registration_body(email), "name": name, "phone": phone, "company": name},
        )
        assert registered.status_code == 201
        refused = await api.post(
            f"/sessions/{session_id}/registrations", json={**registration_body(email), "name": name, "phone": "x"}
        )
        assert refused.status_code == 422

    # A confirmation no consumer can read (no registration_id): its validation error once quoted the whole payload.
    key = uuid.uuid4().hex
    poison = {"participant": {"name": name, "email": email, "language": "nl"}, "phone": phone, "session": name}
    headers, _ = cloud_event(_confirmed_shape()).to_kafka()
    await publish_raw(bootstrap, REGISTRATION_EVENTS, json.dumps(poison).encode(), key=key.encode(), headers=headers)
    # A command refused for its content (a control character in the name) is rejected, not dead-lettered.
    command = RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=uuid.UUID(session_id),
        participant=Participant(name=f"{name}\x07", email=email, language="nl"),
        phone=phone,
    )
    await publish_event(bootstrap, cloud_event(command), command.key(), REGISTRATION_COMMANDS)

    # A minute, not the default half: on a loaded machine both consumers once took longer than 30 s.
    dead = await wait_for_records(
        bootstrap, dead_letter(REGISTRATION_EVENTS), lambda r: r.key == key.encode(), count=2, timeout=60
    )
    rejected = await wait_for_records(
        bootstrap,
        REGISTRATION_EVENTS,
        lambda r: payload(r).get("command_id") == str(command.command_id),
    )
    logs = {path.name: path.read_text(errors="replace") for path in service_logs.glob("*.log")}
    assert {headers_of(r)["dlq_consumer_group"] for r in dead} == {"ticketing", "notifications"}, _consumers_said(logs)
    assert all(headers_of(r)["dlq_error"].startswith("ValidationError") for r in dead)
    assert payload(rejected[0])["reason"] == "invalid"
    dead_headers = " ".join(json.dumps(headers_of(r)) for r in dead)
    assert set(logs) >= {"registration.log", "ticketing.log", "notifications.log", "web.log"}
    assert "record dead-lettered" in logs["ticketing.log"]  # the logs were written while we looked
    for secret in (email, name, phone, marker):
        assert secret not in dead_headers
        assert [log for log, text in logs.items() if secret in text] == []


def _consumers_said(logs: dict[str, str]) -> str:
    """The consumers' last warnings and errors, to tell a slow consumer from a stuck or a skipping one."""
    lines = [
        f"{name}: {line}"
        for name in ("ticketing.log", "notifications.log")
        for line in logs.get(name, "").splitlines()
        if '"level": "warning"' in line or '"level": "error"' in line or "already dead-lettered" in line
    ]
    return "\n".join(lines[-30:])


def _workshop() -> dict:
    texts = {f"{kind}_{lang}": "Text" for kind in ("title", "description") for lang in ("fr", "nl", "en")}
    return {**texts, "topic": "seo", "duration_minutes": 60}


def _confirmed_shape() -> RegistrationConfirmed:
    """Any confirmation, for its CloudEvents headers."""
    return confirmed(f"x-{uuid.uuid4().hex[:6]}@example.be")
