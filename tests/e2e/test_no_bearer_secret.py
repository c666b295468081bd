"""The manage token travels only to its owner: no event, outbox row or other service's table holds it in
plain, yet the email's link opens the registration — until its session has ended."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import httpx
from atelier_devkit.api import create_session, registration_body, unique_email
from atelier_devkit.kafka import headers_of, payload, read_topic, wait_for_records
from atelier_devkit.mail import wait_for_mail
from atelier_schemas.topics import REGISTRATION_EVENTS
from support.email_parts import html_text, plain_text
from support.links import opened_link

LINK = re.compile(r"https?://\S+/registrations/[0-9a-f-]{36}\?lang=\w\w#token=[\w-]+")


async def tables_holding(conn: asyncpg.Connection, secret: str) -> list[str]:
    """Every table of the database one of whose rows, as text, contains `secret`."""
    tables = await conn.fetch("SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'")
    holding = []
    for table in tables:
        query = f"SELECT true FROM {table['name']} t WHERE position($1 IN t::text) > 0 LIMIT 1"
        if await conn.fetchval(query, secret):
            holding.append(table["name"])
    return holding


async def test_the_manage_token_is_in_no_event_nor_other_service_yet_the_email_link_opens_the_registration(
    services, infra, registration_db, ticketing_db, notifications_db
):
    base, email = services["registration"], unique_email()
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        session_id = await create_session(api, base, infra["REGISTRATION_ADMIN_TOKEN"])
        registered = (await api.post(f"/sessions/{session_id}/registrations", json=registration_body(email))).json()
        token, registration_id = registered["manage_token"], registered["registration_id"]
        confirmation, _ = await wait_for_mail(infra["SMTP_MAILDIR"], email, 2, timeout=90)  # both handled by now

        [link] = set(LINK.findall(plain_text(confirmation)))
        assert link in html_text(confirmation)
        parts = urlsplit(link)
        assert parts.fragment == f"token={token}" and token not in parts.query  # never sent to a server
        assert parts.path == f"/registrations/{registration_id}"
        opened = await api.get(f"/registrations/{registration_id}", params={"token": parts.fragment[len("token=") :]})
        assert opened.status_code == 200 and opened.json()["status"] == "confirmed"

    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    [confirmed] = await wait_for_records(bootstrap, REGISTRATION_EVENTS, lambda r: r.key == registration_id.encode())
    assert payload(confirmed)["manage_url"] is None
    assert opened_link(infra, payload(confirmed)["sealed_manage_url"]) == link  # only notifications' key opens it
    records = await read_topic(bootstrap, REGISTRATION_EVENTS)
    assert not [r for r in records if token.encode() in r.value or token in str(headers_of(r))]
    assert await tables_holding(ticketing_db, token) == []
    assert await tables_holding(notifications_db, token) == []
    assert (
        await registration_db.fetchval(
            "SELECT count(*) FROM outbox WHERE position($1 IN convert_from(value, 'UTF8')) > 0", token
        )
        == 0
    )
    assert (
        await notifications_db.fetchval(
            "SELECT count(*) FROM contacts WHERE registration_id = $1 AND sealed_manage_url IS NOT NULL",
            uuid.UUID(registration_id),
        )
        == 1
    )


async def test_a_manage_token_stops_working_once_its_session_has_ended(services, infra, registration_db):
    base = services["registration"]
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        session_id = await create_session(api, base, infra["REGISTRATION_ADMIN_TOKEN"])
        registered = (
            await api.post(f"/sessions/{session_id}/registrations", json=registration_body(unique_email()))
        ).json()
        mine = f"/registrations/{registered['registration_id']}"
        before = await api.get(mine, params={"token": registered["manage_token"]})
        ended = datetime.now(UTC) - timedelta(hours=1)
        await registration_db.execute(  # the session took place (the programme refuses to move one into the past)
            "UPDATE sessions SET starts_at = $2, ends_at = $3 WHERE id = $1",
            uuid.UUID(session_id),
            ended - timedelta(hours=2),
            ended,
        )
        after = await api.get(mine, params={"token": registered["manage_token"]})
        cancel = await api.post(f"{mine}/cancel", params={"token": registered["manage_token"]})
        wrong = await api.get(mine, params={"token": "not-the-token"})

    assert before.status_code == 200
    assert after.status_code == 410 and "session ended" in after.json()["detail"]
    assert cancel.status_code == 410
    assert wrong.status_code == 404  # a wrong token learns nothing about the session
    status = "SELECT status FROM registrations WHERE id = $1"
    assert await registration_db.fetchval(status, uuid.UUID(registered["registration_id"])) == "confirmed"
