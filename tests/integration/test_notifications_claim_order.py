"""What a delivery round claims, on real Postgres: the head of each registration's line, found without
walking past the messages that wait behind an earlier one of their registration, whatever statistics
Postgres last took of the queue."""

from __future__ import annotations

import asyncpg
import pytest
from atelier_devkit.databases import notifications_database
from notifications.delivery import claim_due

LINES = 3000  # registrations, each with a voucher email queued before its confirmation
ROUND = 4


@pytest.fixture
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


async def messages_read(conn: asyncpg.Connection) -> int:
    """Rows of `messages` this transaction has read so far, by any scan."""
    return int(
        await conn.fetchval(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
            " WHERE relname = 'messages'"
        )
    )


@pytest.mark.parametrize("analysed", ["after the queue filled", "while the queue was empty"])
async def test_a_round_claims_the_heads_of_the_lines_without_walking_past_the_messages_behind_them(pool, analysed):
    if analysed == "while the queue was empty":  # a young table, or statistics from a quiet hour
        await pool.execute("ANALYZE messages; ANALYZE contacts")
    await queue_vouchers_before_their_confirmations(pool, LINES)
    if analysed == "after the queue filled":
        await pool.execute("ANALYZE messages; ANALYZE contacts")

    async with pool.acquire() as conn, conn.transaction():
        claimed = await claim_due(conn, ROUND)
        read = await messages_read(conn)
    assert [row["kind"] for row in claimed] == ["registration_confirmed"] * ROUND
    assert len({row["registration_id"] for row in claimed}) == ROUND
    # Each head read once, and its line (two messages) once to tell it is the head. Claiming by due time
    # read all 3,000 waiting vouchers first; a plan made on the empty table's statistics read and sorted
    # all 6,000 pending messages (and their lines) to keep four.
    assert read <= 4 * ROUND, read
