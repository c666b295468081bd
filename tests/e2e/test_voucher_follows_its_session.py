"""An organiser moves a session to another day, with the three services as real processes: the
participant's voucher is replaced by one valid on the new day, and they are told so by email."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from atelier_devkit.api import admin, create_session, registration_body, unique_email
from atelier_devkit.kafka import headers_of, payload, wait_for_records
from atelier_devkit.mail import received_for, wait_for_mail
from atelier_schemas.topics import TICKETING_EVENTS
from support.ticketing import ISSUED, VOIDED

BRUSSELS = ZoneInfo("Europe/Brussels")


async def test_a_session_moved_to_another_day_gives_a_new_voucher_for_that_day_and_an_email_saying_so(infra, services):
    email, token = unique_email(), infra["REGISTRATION_ADMIN_TOKEN"]
    starts = datetime.combine(datetime.now(BRUSSELS).date() + timedelta(days=8), time(10, 0), tzinfo=BRUSSELS)
    async with httpx.AsyncClient() as client:
        session_id = await create_session(client, services["registration"], token, starts=starts)
        response = await client.post(
            f"{services['registration']}/sessions/{session_id}/registrations", json=registration_body(email)
        )
        assert response.status_code == 201, response.text
        registration_id = response.json()["registration_id"]
        of_registration = lambda r: r.key == registration_id.encode()  # noqa: E731
        await wait_for_records(infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, of_registration)
        assert len(await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)) == 2  # confirmation and voucher

        moved = starts + timedelta(days=1)
        response = await client.patch(
            f"{services['registration']}/admin/sessions/{session_id}",
            headers=admin(token),
            json={"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=2)).isoformat()},
        )
        assert response.status_code == 200, response.text

        records = await wait_for_records(infra["KAFKA_BOOTSTRAP_SERVERS"], TICKETING_EVENTS, of_registration, count=3)
        assert [headers_of(r)["ce_type"] for r in records] == [ISSUED, VOIDED, ISSUED]
        old, new = payload(records[0]), payload(records[2])
        assert (payload(records[1])["code"], new["replaces"]) == (old["code"], old["voucher_id"])

        old_now = (await client.get(f"{services['ticketing']}/vouchers/{old['code']}")).json()
        new_now = (await client.get(f"{services['ticketing']}/vouchers/{new['code']}")).json()
    assert old_now["status"] == "void"
    assert (new_now["status"], new_now["valid_on"]) == ("issued", moved.date().isoformat())

    # confirmation, first voucher, session change, new voucher — and no separate "voucher cancelled"
    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=4)
    await asyncio.sleep(2)
    subjects = [m["Subject"] for m in received_for(infra["SMTP_MAILDIR"], email)]
    assert len(subjects) == 4 and len(mails) == 4, subjects
    assert f"Je sessie is verplaatst: je nieuwe treinticket {new['code']}" in subjects
    assert f"Je treinticket {old['code']} is niet meer geldig" not in subjects
