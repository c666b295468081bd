"""At-least-once delivery never doubles an effect; poison records go to the DLQ."""

from __future__ import annotations

import asyncio
import uuid

from atelier_devkit.api import unique_email
from atelier_devkit.kafka import cloud_event, headers_of, publish_event, publish_raw, wait_for_records
from atelier_devkit.mail import received_for, wait_for_mail
from atelier_devkit.notification_events import confirmed
from atelier_schemas import RegistrationConfirmed
from atelier_schemas.topics import REGISTRATION_EVENTS, dead_letter


async def test_the_same_event_delivered_twice_gives_one_voucher_and_one_email_each(
    infra, services, ticketing_db, notifications_db
):
    email = unique_email()
    message = confirmed(email, voucher_from="008814001")
    event = cloud_event(message)
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    await publish_event(bootstrap, event, message.key(), REGISTRATION_EVENTS)
    await publish_event(bootstrap, event, message.key(), REGISTRATION_EVENTS)

    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)
    await asyncio.sleep(3)  # room for a wrong third or fourth email to arrive
    mails = received_for(infra["SMTP_MAILDIR"], email)
    assert sorted(m["Subject"].split(":")[0] for m in mails) == [
        "Registration confirmed",
        "Your train voucher to Brussels-Central",
    ]
    assert len({m["Message-ID"] for m in mails}) == 2
    vouchers = await ticketing_db.fetchval(
        "SELECT count(*) FROM vouchers WHERE registration_id = $1", message.registration_id
    )
    assert vouchers == 1
    inbox = await ticketing_db.fetchval(
        "SELECT count(*) FROM inbox WHERE consumer = 'ticketing' AND event_id = $1", event.id
    )
    assert inbox == 1


async def test_poison_records_are_dead_lettered_and_the_partition_keeps_flowing(infra, services, ticketing_db):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    key = uuid.uuid4().hex  # same key: same partition as the good event that follows
    good = confirmed(unique_email(), voucher_from="008814001")
    not_json = cloud_event(good)
    invalid = cloud_event(good).__class__(
        type=RegistrationConfirmed.TYPE, source="/tests", data={"registration_id": "not-a-uuid"}
    )

    headers, _ = not_json.to_kafka()
    await publish_raw(bootstrap, REGISTRATION_EVENTS, b"{not json", key=key.encode(), headers=headers)
    await publish_event(bootstrap, invalid, key, REGISTRATION_EVENTS)
    await publish_event(bootstrap, cloud_event(good), key, REGISTRATION_EVENTS)

    dead = await wait_for_records(bootstrap, dead_letter(REGISTRATION_EVENTS), lambda r: r.key == key.encode(), count=4)
    by_group = {}
    for record in dead:
        h = headers_of(record)
        assert h["dlq_original_topic"] == REGISTRATION_EVENTS
        assert int(h["dlq_original_offset"]) >= 0 and int(h["dlq_original_partition"]) >= 0
        by_group.setdefault(h["dlq_consumer_group"], []).append(h["dlq_error"])
    assert set(by_group) == {"ticketing", "notifications"}
    for errors in by_group.values():
        assert any("not JSON" in e for e in errors)
        assert any("ValidationError" in e and "registration_id" in e for e in errors)

    for _ in range(60):
        issued = await ticketing_db.fetchval(
            "SELECT count(*) FROM vouchers WHERE registration_id = $1", good.registration_id
        )
        if issued:
            break
        await asyncio.sleep(0.5)
    assert issued == 1
