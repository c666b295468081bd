"""A session moved to another day, through ticketing and notifications on real Postgres and a real
SMTP server: the participant gets the new voucher, in their language, told why and that the old
one is no longer valid — and no separate "voucher cancelled" email, nor the old voucher when it
had not gone out yet."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from atelier_devkit import notification_events as events
from atelier_devkit.api import unique_email
from atelier_devkit.databases import notifications_database
from atelier_devkit.kafka import cloud_event
from atelier_devkit.registration_events import ANTWERPEN_CENTRAAL
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.processes import free_port
from atelier_schemas import CloudEvent, parse
from notifications.handlers import handlers
from support.delivery import deliver_all
from support.email_parts import decode_qr, images, plain_text
from support.ticketing import running_ticketing, vouchers_of

HANDLERS = handlers(reminder_before=timedelta(hours=24))
T0 = datetime.now(UTC) - timedelta(hours=1)
SUBJECT = {
    "en": "Your session moved: your new train voucher {code}",
    "fr": "Votre séance a été déplacée : votre nouveau billet de train {code}",
    "nl": "Je sessie is verplaatst: je nieuwe treinticket {code}",
}
OLD_ONE_INVALID = {
    "en": "Your previous voucher {code} is no longer valid",
    "fr": "Votre ancien billet {code} n'est plus valable",
    "nl": "Je vorige ticket {code} is niet meer geldig",
}


@pytest.fixture(scope="module")
async def ticketing(infra):
    async with running_ticketing(infra) as ticketing:
        yield ticketing


@pytest.fixture(scope="module")
async def notifications_pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_moves") as database:
        yield database.pool


@pytest.fixture(scope="module")
def smtp():
    with RecordingSmtpServer(free_port()) as server:
        yield server


async def notify(pool: asyncpg.Pool, *cloud_events: CloudEvent) -> None:
    """Hand each event to notifications' handlers as its consumer would."""
    for event in cloud_events:
        message = parse(event)
        async with pool.acquire() as conn, conn.transaction():
            await HANDLERS[type(message)](conn, event, message)


async def ticketing_published(pool: asyncpg.Pool, registration_id) -> list[CloudEvent]:
    rows = await pool.fetch("SELECT headers, value FROM outbox WHERE key = $1 ORDER BY position", str(registration_id))
    return [CloudEvent.from_kafka(json.loads(row["headers"]), row["value"]) for row in rows]


@pytest.mark.parametrize("language", ["fr", "nl", "en"])
async def test_the_participant_gets_the_new_voucher_with_why_in_their_language(
    ticketing, notifications_pool, smtp, language
):
    email = unique_email()
    confirmed = events.confirmed(email, language=language, voucher_from=ANTWERPEN_CENTRAAL)
    moved = events.session_changed(confirmed.session, starts_at=confirmed.session.starts_at + timedelta(days=1))
    registration_events = [
        replace(cloud_event(confirmed), time=T0),
        replace(cloud_event(moved), time=T0 + timedelta(minutes=5)),
    ]

    await ticketing.deliver(*registration_events)
    await notify(notifications_pool, *registration_events)
    await notify(notifications_pool, *await ticketing_published(ticketing.pool, confirmed.registration_id))
    await deliver_all(notifications_pool, smtp.port)

    old, new = sorted(await vouchers_of(ticketing.pool, confirmed.registration_id), key=lambda v: v["issued_at"])
    received = smtp.to(email)
    # confirmation, session change, new voucher: the first voucher was replaced before its email went out,
    # and no "voucher cancelled" email
    assert len(received) == 3
    assert [old["code"] in m["Subject"] for m in received] == [False, False, False]
    reissued = received[-1]
    assert reissued["Subject"] == SUBJECT[language].format(code=new["code"])
    assert OLD_ONE_INVALID[language].format(code=old["code"]) in plain_text(reissued)
    [qr] = images(reissued)
    [payload] = decode_qr(qr.get_content())
    new_voucher_issued = (await ticketing_published(ticketing.pool, confirmed.registration_id))[-1]
    assert payload == new_voucher_issued.data["qr_payload"]
