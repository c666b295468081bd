"""Erasing a person on real servers: after the three confirmations no database holds their email, name,
phone or company, the yearly report counts the same, and erasing again changes nothing."""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from atelier_devkit.api import admin, create_session, unique_email
from atelier_devkit.kafka import cloud_event, publish_event
from atelier_devkit.mail import received_for, wait_for_mail
from atelier_devkit.waiting import eventually
from atelier_schemas import ErasePerson, Participant, RegistrationCancelled, SessionInfo
from atelier_schemas.base import example_of
from atelier_schemas.topics import REGISTRATION_COMMANDS, REGISTRATION_EVENTS

DATABASES = ("REGISTRATION_DATABASE_URL", "TICKETING_DATABASE_URL", "NOTIFICATIONS_DATABASE_URL")
SESSIONS = 3


def someone() -> dict[str, str]:
    """A person no other test uses: every value can be searched for alone."""
    letters = "".join(random.choices(string.ascii_lowercase, k=10))
    return {
        "name": f"Zelda {letters.capitalize()}",
        "email": unique_email(),
        "phone": f"+32 470 {random.randint(100000, 999999)}",
        "company": f"Bakkerij {letters[::-1].capitalize()}",
    }


async def every_text(url: str) -> str:
    """Every row of every table of the database as text, lower-cased (bytea as escaped text: outbox values)."""
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        dumped = []
        for table in tables:
            columns = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = $1",
                table["table_name"],
            )
            shown = ", ".join(
                f"encode({quote(c['column_name'])}, 'escape')"
                if c["data_type"] == "bytea"
                else f"{quote(c['column_name'])}::text"
                for c in columns
            )
            rows = await conn.fetch(f"SELECT concat_ws(' | ', {shown}) AS line FROM {quote(table['table_name'])}")
            dumped += [row["line"] or "" for row in rows]
        return "\n".join(dumped).lower()
    finally:
        await conn.close()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


async def traces_of(infra: dict[str, str], person: dict[str, str]) -> dict[str, list[str]]:
    """Per database, which of the person's values it still holds."""
    found = {}
    for name in DATABASES:
        text = await every_text(infra[name])
        found[name] = [field for field, value in person.items() if value.lower() in text]
    return found


async def wait_until_complete(api: httpx.AsyncClient, token: str, erasure_id: str) -> dict:
    status: dict = {}

    async def complete() -> bool:
        nonlocal status
        status = (await api.get(f"/admin/people/erasures/{erasure_id}", headers=admin(token))).json()
        return status["complete"]

    assert await eventually(complete, timeout=120), status
    return status


@pytest.fixture
async def api(services):
    async with httpx.AsyncClient(base_url=services["registration"], timeout=30) as client:
        yield client


async def test_an_erased_person_leaves_no_trace_in_any_database_and_the_report_counts_the_same(
    infra, services, api, notifications_db
):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    person = someone()
    first_day = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20, minutes=uuid.uuid4().int % 1000)
    registered = []
    for n in range(SESSIONS):
        session_id = await create_session(api, str(api.base_url), token, starts=first_day + timedelta(days=n))
        body = {**person, "language": "en", "wants_voucher": True, "origin_station_id": "008821006"}
        response = await api.post(f"/sessions/{session_id}/registrations", json=body)
        assert response.status_code == 201, response.text
        registered.append(response.json())
    checked_in = await api.post("/admin/check-ins", json={"code": registered[0]["code"]}, headers=admin(token))
    assert checked_in.status_code == 200  # trained: the report counts them
    # Everything has happened: a confirmation and a voucher email per session, a reminder planned for each.
    assert (
        len(await wait_for_mail(infra["SMTP_MAILDIR"], person["email"], count=2 * SESSIONS, timeout=90)) == 2 * SESSIONS
    )
    ids = [uuid.UUID(r["registration_id"]) for r in registered]
    scheduled = await notifications_db.fetchval(
        "SELECT count(*) FROM reminders WHERE registration_id = ANY($1::uuid[]) AND status = 'scheduled'", ids
    )
    assert scheduled == SESSIONS
    before = await traces_of(infra, person)  # the search finds what is there
    assert before["REGISTRATION_DATABASE_URL"] == list(person)
    assert "name" in before["TICKETING_DATABASE_URL"] and "email" in before["NOTIFICATIONS_DATABASE_URL"]
    report = (await api.get("/admin/report", headers=admin(token))).json()

    erase = await api.post("/admin/people/erase", json={"email": person["email"].upper()}, headers=admin(token))

    assert erase.status_code == 202, erase.text
    erasure_id = erase.json()["erasure_id"]
    assert erase.json()["registrations"] == SESSIONS
    status = await wait_until_complete(api, token, erasure_id)
    assert set(status["services"]) == {"registration", "ticketing", "notifications"}
    assert await traces_of(infra, person) == {name: [] for name in DATABASES}
    assert (await api.get("/admin/report", headers=admin(token))).json() == report
    reminders = await notifications_db.fetch(
        "SELECT status FROM reminders WHERE registration_id = ANY($1::uuid[])", ids
    )
    assert [r["status"] for r in reminders] == ["cancelled"] * SESSIONS
    mine = await api.get(f"/registrations/{ids[1]}", params={"token": registered[1]["manage_token"]})
    assert mine.status_code == 404  # the manage link died with the data

    again = await api.post("/admin/people/erase", json={"email": person["email"]}, headers=admin(token))
    assert (again.status_code, again.json()) == (202, {"erasure_id": erasure_id, "registrations": 0})
    assert (await api.get("/admin/report", headers=admin(token))).json() == report


async def test_the_erase_person_command_erases_like_the_admin_api(infra, services, api):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    person = someone()
    session_id = await create_session(api, str(api.base_url), token)
    body = {**person, "language": "fr", "wants_voucher": False}
    assert (await api.post(f"/sessions/{session_id}/registrations", json=body)).status_code == 201
    assert len(await wait_for_mail(infra["SMTP_MAILDIR"], person["email"], count=1, timeout=90)) == 1
    command = ErasePerson(command_id=uuid.uuid4(), email=person["email"])

    await publish_event(infra["KAFKA_BOOTSTRAP_SERVERS"], cloud_event(command), command.key(), REGISTRATION_COMMANDS)

    conn = await asyncpg.connect(infra["REGISTRATION_DATABASE_URL"])
    try:
        assert await eventually(
            lambda: conn.fetchval("SELECT id FROM erasures WHERE command_id = $1", command.command_id), timeout=90
        )
        erasure_id = await conn.fetchval("SELECT id FROM erasures WHERE command_id = $1", command.command_id)
    finally:
        await conn.close()
    await wait_until_complete(api, token, str(erasure_id))
    assert await traces_of(infra, person) == {name: [] for name in DATABASES}


async def test_an_event_of_an_erased_registration_that_comes_late_is_applied_and_scrubbed(
    infra, services, api, notifications_db
):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    person = someone()
    session_id = await create_session(api, str(api.base_url), token)
    body = {**person, "language": "en", "wants_voucher": False}
    registered = (await api.post(f"/sessions/{session_id}/registrations", json=body)).json()
    assert len(await wait_for_mail(infra["SMTP_MAILDIR"], person["email"], count=1, timeout=90)) == 1
    erasure_id = (await api.post("/admin/people/erase", json={"email": person["email"]}, headers=admin(token))).json()
    await wait_until_complete(api, token, erasure_id["erasure_id"])
    # A copy of the cancellation written before the erasure, as a replayed dead letter would bring it.
    late = RegistrationCancelled(
        **{
            **example_of(RegistrationCancelled),
            "registration_id": registered["registration_id"],
            "session": SessionInfo(**{**example_of(SessionInfo), "session_id": session_id}),
            "participant": Participant(name=person["name"], email=person["email"], language="en"),
            "cancelled_by": "participant",
            "previous_status": "confirmed",
        }
    )

    await publish_event(infra["KAFKA_BOOTSTRAP_SERVERS"], cloud_event(late), late.key(), REGISTRATION_EVENTS)

    async def applied() -> bool:
        status = await notifications_db.fetchval(
            "SELECT status FROM contacts WHERE registration_id = $1", uuid.UUID(registered["registration_id"])
        )
        return status == "cancelled"

    assert await eventually(applied, timeout=90)  # the cancellation took effect...
    assert await traces_of(infra, person) == {name: [] for name in DATABASES}  # ...and left no data behind
    assert len(received_for(infra["SMTP_MAILDIR"], person["email"])) == 1  # its email was never sent


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/admin/people/erase"), ("GET", f"/admin/people/erasures/{uuid.uuid4()}")]
)
async def test_erasure_endpoints_need_the_admin_token(api, method, path):
    anonymous = await api.request(method, path, json={})
    wrong = await api.request(method, path, json={}, headers={"Authorization": "Bearer not-the-token"})
    assert (anonymous.status_code, wrong.status_code) == (401, 403)


async def test_an_unknown_erasure_is_404_and_a_bad_address_is_422(infra, api):
    token = infra["REGISTRATION_ADMIN_TOKEN"]
    unknown = await api.get(f"/admin/people/erasures/{uuid.uuid4()}", headers=admin(token))
    bad = await api.post("/admin/people/erase", json={"email": "not an address"}, headers=admin(token))
    assert (unknown.status_code, bad.status_code) == (404, 422)
