"""Retention on real Postgres: what is past its time goes, what is not stays, and each purge is counted."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta

from atelier_devkit.databases import fresh_database, notifications_database
from atelier_platform.anonymise import ERASED_NAME
from atelier_platform.db import create_pool, migrate
from atelier_platform.retention import PLATFORM_PURGES, RetentionSettings, purge_once
from notifications import erasure as notifications_erasure
from prometheus_client import REGISTRY
from ticketing import erasure as ticketing_erasure
from ticketing.config import MIGRATIONS as TICKETING_MIGRATIONS


def purged(name: str) -> float:
    return REGISTRY.get_sample_value("atelier_retention_rows_total", {"purge": name}) or 0.0


async def add_outbox_row(pool, *, created_days_ago: int, sent_days_ago: int | None) -> str:
    event_id = str(uuid.uuid4())
    await pool.execute(
        "INSERT INTO outbox (event_id, topic, key, headers, value, created_at, sent_at)"
        " VALUES ($1, 't', 'k', '{}', '{}', now() - make_interval(days => $2), now() - make_interval(days => $3))",
        event_id,
        created_days_ago,
        sent_days_ago,
    )
    return event_id


async def test_published_outbox_rows_and_old_inbox_rows_are_purged_and_the_rest_kept(fresh_registration_db):
    pool = fresh_registration_db
    old_sent = await add_outbox_row(pool, created_days_ago=9, sent_days_ago=8)
    fresh_sent = await add_outbox_row(pool, created_days_ago=2, sent_days_ago=1)
    never_sent = await add_outbox_row(pool, created_days_ago=30, sent_days_ago=None)  # waits for Kafka: kept
    await pool.execute(
        "INSERT INTO inbox (consumer, event_id, handled_at) VALUES ('g', 'old', now() - interval '46 days'),"
        " ('g', 'recent', now() - interval '40 days')"
    )
    outbox_before, inbox_before = purged("outbox"), purged("inbox")

    done = await purge_once(pool, PLATFORM_PURGES, RetentionSettings())

    assert done == {"outbox": 1, "inbox": 1}
    kept = {row["event_id"] for row in await pool.fetch("SELECT event_id FROM outbox")}
    assert old_sent not in kept and {fresh_sent, never_sent} <= kept
    assert [row["event_id"] for row in await pool.fetch("SELECT event_id FROM inbox")] == ["recent"]
    assert (purged("outbox") - outbox_before, purged("inbox") - inbox_before) == (1, 1)


async def test_holder_names_of_vouchers_past_the_retention_are_anonymised(infra):
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "retention") as url:
        await asyncio.to_thread(migrate, url, TICKETING_MIGRATIONS)
        pool = await create_pool(url)
        try:
            for days_ago, name in ((200, "Old Traveller"), (10, "Recent Traveller")):
                await pool.execute(
                    "INSERT INTO vouchers (id, registration_id, code, holder_name, origin_station_id, valid_on,"
                    " price_eur, status) VALUES ($1, $2, $3, $4, '008821006', $5, 9.60, 'used')",
                    uuid.uuid4(),
                    uuid.uuid4(),
                    uuid.uuid4().hex,
                    name,
                    date.today() - timedelta(days=days_ago),
                )

            done = await purge_once(pool, ticketing_erasure.PURGES, RetentionSettings())
            again = await purge_once(pool, ticketing_erasure.PURGES, RetentionSettings())

            names = {row["holder_name"] for row in await pool.fetch("SELECT holder_name FROM vouchers")}
        finally:
            await pool.close()
    assert (done, again) == ({"past_vouchers": 1}, {"past_vouchers": 0})
    assert names == {ERASED_NAME, "Recent Traveller"}


async def test_contacts_and_message_contents_of_past_sessions_are_anonymised(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "retention") as db:
        past, recent = uuid.uuid4(), uuid.uuid4()
        for registration_id, days_ago in ((past, 200), (recent, 10)):
            await db.pool.execute(
                "INSERT INTO contacts (registration_id, name, email, language, ends_at, sealed_manage_url)"
                " VALUES ($1, 'Lena Peeters', 'lena@example.be', 'en', now() - make_interval(days => $2), 'https://x')",
                registration_id,
                days_ago,
            )
            await db.pool.execute(
                "INSERT INTO messages (id, event_id, kind, registration_id, message_id, context, status)"
                " VALUES ($1, $2, 'registration_confirmed', $3, $4, $5, 'sent')",
                uuid.uuid4(),
                str(uuid.uuid4()),
                registration_id,
                f"<{uuid.uuid4()}@atelier>",
                json.dumps({"name": "Lena Peeters"}),
            )

        done = await purge_once(db.pool, notifications_erasure.PURGES, RetentionSettings())

        contacts = {
            row["registration_id"]: (row["name"], row["email"], row["sealed_manage_url"])
            for row in await db.pool.fetch("SELECT registration_id, name, email, sealed_manage_url FROM contacts")
        }
        contexts = {
            row["registration_id"]: json.loads(row["context"])
            for row in await db.pool.fetch("SELECT registration_id, context FROM messages")
        }
    assert done == {"past_sessions": 2}  # one contact, one message
    assert contacts[past] == (ERASED_NAME, f"erased-{past.hex}@erased.example", None)
    assert contacts[recent] == ("Lena Peeters", "lena@example.be", "https://x")
    assert contexts == {past: {}, recent: {"name": "Lena Peeters"}}
