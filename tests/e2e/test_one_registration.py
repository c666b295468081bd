"""One registration travels through all three services."""

from __future__ import annotations

import httpx
from atelier_devkit.api import create_session, registration_body, unique_email
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_devkit.mail import wait_for_mail
from atelier_schemas.topics import TICKETING_EVENTS


async def test_a_registration_with_voucher_request_yields_one_voucher_one_event_and_two_emails(
    infra, services, ticketing_db
):
    email = unique_email()
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        response = await client.post(
            f"{services['registration']}/sessions/{session_id}/registrations",
            json=registration_body(email),
            headers={"X-Correlation-ID": f"corr-{email}"},
        )
    assert response.status_code == 201, response.text
    assert response.headers["X-Correlation-ID"] == f"corr-{email}"
    registration_id = response.json()["registration_id"]

    issued = await wait_for_records(
        infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, lambda r: r.key == registration_id.encode()
    )
    assert len(issued) == 1
    assert headers_of(issued[0])["ce_type"] == "be.atelier.ticketing.issued.v1"
    assert headers_of(issued[0])["ce_correlationid"] == f"corr-{email}"  # carried across services
    code = payload(issued[0])["code"]

    vouchers = await ticketing_db.fetch("SELECT code, status FROM vouchers WHERE registration_id = $1", registration_id)
    assert [(v["code"], v["status"]) for v in vouchers] == [(code, "issued")]

    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)
    assert len(mails) == 2
    assert mails[0]["Subject"].startswith("Inschrijving bevestigd")
    assert code in mails[1]["Subject"] and code in mails[1].get_body(preferencelist=("plain",)).get_content()

    async with httpx.AsyncClient() as client:
        voucher = await client.get(f"{services['ticketing']}/vouchers/{code}")
    assert voucher.status_code == 200
    assert voucher.json()["status"] == "issued"


async def test_no_voucher_is_issued_when_none_was_asked_for(infra, services, ticketing_db):
    email = unique_email()
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, services["registration"], infra["REGISTRATION_ADMIN_TOKEN"])
        response = await client.post(
            f"{services['registration']}/sessions/{session_id}/registrations",
            json=registration_body(email, voucher=False),
        )
    assert response.status_code == 201
    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=1)
    assert len(mails) == 1
    count = await ticketing_db.fetchval(
        "SELECT count(*) FROM vouchers WHERE registration_id = $1", response.json()["registration_id"]
    )
    assert count == 0
