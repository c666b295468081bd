"""The running services are tolerant readers: a type they do not handle is skipped, a field they do not know ignored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from atelier_devkit.api import unique_email
from atelier_devkit.kafka import cloud_event, publish_event, read_topic
from atelier_devkit.mail import wait_for_mail
from atelier_devkit.notification_events import confirmed
from atelier_schemas import AttendanceRecorded, CloudEvent
from atelier_schemas.topics import REGISTRATION_EVENTS, dead_letter


async def test_types_nobody_handles_are_skipped_and_unknown_fields_ignored_without_dead_letters(
    infra, services, ticketing_db
):
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    email = unique_email()
    good = confirmed(email, voucher_from="008812005")
    key = good.key()  # one key: one partition, read in this order by each consumer group
    from_the_future = CloudEvent(type="be.atelier.registration.teleported.v1", source="/newer", data={"to": "Mars"})
    not_handled_here = cloud_event(
        AttendanceRecorded(
            registration_id=good.registration_id, session_id=good.session.session_id, attended_at=datetime.now(UTC)
        )
    )
    newer = cloud_event(good)
    newer = CloudEvent(
        type=newer.type,
        source=newer.source,
        subject=newer.subject,
        data={
            **newer.data,
            "loyalty_tier": "gold",
            "participant": {**newer.data["participant"], "pronouns": "she/her"},
        },
    )

    for event in (from_the_future, not_handled_here, newer):
        await publish_event(bootstrap, event, key, REGISTRATION_EVENTS)

    mails = await wait_for_mail(infra["SMTP_MAILDIR"], email, count=2)
    assert sorted(m["Subject"].split(":")[0] for m in mails) == [
        "Registration confirmed",
        "Your train voucher to Brussels-Central",
    ]
    for _ in range(60):
        if await ticketing_db.fetchval(
            "SELECT count(*) FROM vouchers WHERE registration_id = $1", good.registration_id
        ):
            break
        await asyncio.sleep(0.5)
    else:
        raise AssertionError("ticketing issued no voucher")
    # Both groups have passed the two skipped records (same partition, read in order), so any
    # dead letter for them would already be on the topic.
    dead = [r for r in await read_topic(bootstrap, dead_letter(REGISTRATION_EVENTS)) if r.key == key.encode()]
    assert dead == []
