"""What a delivery round claims, on real Postgres: the head of each registration's line, found without
walking past the messages that wait behind an earlier one of their registration."""

from __future__ import annotations

import json

import asyncpg
import pytest
from atelier_devkit.databases import notifications_database
from notifications.delivery import DUE

LINES = 3000  # registrations, each with a voucher email queued before its confirmation
ROUND = 4


@pytest.fixture(scope="module")
async def pool(infra):
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_claim") as database:
        yield database.pool


async def queue_vouchers_before_their_confirmations(pool: asyncpg.Pool, count: int) -> None:
    """ticketing.events read ahead of registration.events: every voucher email was queued (and fell due)
    a minute before the confirmation that caused its voucher, so each waits behind that confirmation."""
    await pool.execute(
        """
        WITH lines AS (SELECT gen_random_uuid() AS registration_id, n FROM generate_series(1, $1) AS n),
        contacts_known AS (
            INSERT INTO contacts (registration_id, name, email, language)
            SELECT registration_id, 'Claim ' || n, 'claim-' || n || '@example.be', 'en' FROM lines
        )
        INSERT INTO messages (id, event_id, kind, registration_id, message_id, context, caused_at, created_at,
                              next_attempt_at)
        SELECT gen_random_uuid(), kind || '-' || registration_id, kind, registration_id,
               '<' || kind || '-' || registration_id || '@claim.test>', '{}',
               now() - interval '1 hour' + n * interval '1 ms' + CASE kind WHEN 'voucher_issued' THEN interval '1 s'
                                                                         ELSE interval '0' END,
               now() - CASE kind WHEN 'voucher_issued' THEN interval '1 minute' ELSE interval '0' END,
               now() - CASE kind WHEN 'voucher_issued' THEN interval '1 minute' ELSE interval '0' END
        FROM lines CROSS JOIN (VALUES ('voucher_issued'), ('registration_confirmed')) AS kinds(kind)
        """,
        count,
    )
    await pool.execute("ANALYZE messages")
    await pool.execute("ANALYZE contacts")


def scans_of_the_queue(plan: dict) -> list[dict]:
    """The plan nodes that read the pending messages a round may claim (alias `m` in DUE)."""
    found = [plan] if plan.get("Relation Name") == "messages" and plan.get("Alias") == "m" else []
    for child in plan.get("Plans", []):
        found += scans_of_the_queue(child)
    return found


async def test_a_round_claims_the_heads_of_the_lines_without_walking_past_the_messages_behind_them(pool):
    await queue_vouchers_before_their_confirmations(pool, LINES)

    async with pool.acquire() as conn, conn.transaction():  # its end lets go of the rows EXPLAIN ANALYZE locked
        [plan] = json.loads(await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {DUE}", ROUND))
    [scan] = scans_of_the_queue(plan["Plan"])
    # Claiming by due time read all 3,000 waiting vouchers (each checked against its confirmation) first.
    assert scan["Actual Rows"] <= 2 * ROUND, scan

    async with pool.acquire() as conn, conn.transaction():
        claimed = await conn.fetch(DUE, ROUND)
    assert [row["kind"] for row in claimed] == ["registration_confirmed"] * ROUND
    assert len({row["registration_id"] for row in claimed}) == ROUND
