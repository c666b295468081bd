"""Count what a run of registrations left behind, in every place it should have: registration rows,
seats, vouchers, notification messages, emails in the SMTP maildir, dead letters, unsent outbox rows.

What a registration must end with depends on its final state: a confirmed one its confirmation, its
voucher and the voucher email; a waitlisted one the waiting-list email; a cancelled one at least
its confirmation and cancellation emails. A second message of one kind for one registration (a
second Message-ID) is a duplicate. The same message received twice (one Message-ID) is counted
apart: SMTP has no idempotency, so a send cut between the server's "250 OK" and the commit that
records it is sent again after recovery; receivers recognise the copy by its Message-ID.
"""

from __future__ import annotations

import asyncio
import collections
import email.parser
import email.policy
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from atelier_schemas.topics import ALL, dead_letter
from notifications import kinds

DATABASES = ("REGISTRATION", "TICKETING", "NOTIFICATIONS")


@dataclass(frozen=True)
class Expected:
    """What one registration must end with."""

    email: str
    kinds: frozenset[str]
    voucher: bool


def expected_for(status: str, email: str, wants_voucher: bool) -> Expected:
    if status == "confirmed":
        wanted = {kinds.REGISTRATION_CONFIRMED, *([kinds.VOUCHER_ISSUED] if wants_voucher else [])}
        return Expected(email, frozenset(wanted), wants_voucher)
    if status == "waitlisted":
        return Expected(email, frozenset({kinds.REGISTRATION_WAITLISTED}), False)
    return Expected(email, frozenset({kinds.REGISTRATION_CONFIRMED, kinds.REGISTRATION_CANCELLED}), False)


@dataclass
class Tally:
    accepted: int = 0
    rows: int = 0
    missing_rows: int = 0
    rows_per_email_above_one: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    cancelled: int = 0
    vouchers: int = 0
    missing_vouchers: int = 0
    emails_by_kind: collections.Counter[str] = field(default_factory=collections.Counter)  # every copy
    messages_by_kind: collections.Counter[str] = field(default_factory=collections.Counter)  # distinct Message-IDs
    emails: int = 0
    distinct_message_ids: int = 0
    missing_emails: int = 0
    duplicate_emails: int = 0  # a second message of one kind for one registration: another Message-ID
    resent_copies: int = 0  # the same message again (same Message-ID): a send cut between "250 OK" and its commit
    failed_messages: int = 0
    dead_letters: int = 0
    overbooked: int = 0
    seats_not_matching_rows: int = 0
    unsent_outbox: int = 0
    quarantined_outbox: int = 0

    @property
    def lost(self) -> int:
        return self.missing_rows + self.missing_vouchers + self.missing_emails

    @property
    def duplicated(self) -> int:
        return self.rows_per_email_above_one + self.duplicate_emails

    @property
    def complete(self) -> bool:
        return self.lost == 0 and self.unsent_outbox == 0

    def summary(self) -> str:
        return (
            f"lost={self.lost} duplicated={self.duplicated}"
            f" dead_lettered={self.dead_letters} overbooked={self.overbooked}"
        )


# --- the maildir -------------------------------------------------------------

_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)
_parsed: dict[Path, tuple[str, str]] = {}  # a stored email never changes: parse each file once


def mailbox(maildir: str) -> dict[str, list[str]]:
    """Message-IDs received, by recipient address."""
    received: dict[str, list[str]] = collections.defaultdict(list)
    for path in (Path(maildir) / "new").glob("*"):
        if path not in _parsed:
            with path.open("rb") as file:
                headers = _HEADERS.parse(file)
            _parsed[path] = (headers["To"].addresses[0].addr_spec.lower(), str(headers["Message-ID"]).strip())
        to, message_id = _parsed[path]
        received[to].append(message_id)
    return received


# --- kafka ---------------------------------------------------------------------


async def _partitions(bootstrap: str, topics: Iterable[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic["error_code"] == 0
        for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    partitions = await _partitions(bootstrap, topics)
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()


async def records_since(
    bootstrap: str, since: dict[TopicPartition, int], topics: Iterable[str]
) -> list[ConsumerRecord]:
    """Every record on `topics` after the offsets in `since` (from the beginning of a partition not in it)."""
    partitions = await _partitions(bootstrap, topics)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    await asyncio.sleep(0.01)  # let aiokafka's background task start before a possible stop
    try:
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, since.get(tp, 0))
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(r for r in batch if r.offset < end[TopicPartition(r.topic, r.partition)])
        return records
    finally:
        await consumer.stop()


DEAD_LETTER_TOPICS = tuple(dead_letter(topic) for topic in ALL)


# --- the baseline and the count ---------------------------------------------------


@dataclass
class Baseline:
    """Where the outboxes and dead-letter topics stood before a run: only what came after counts."""

    dead_letters: dict[TopicPartition, int]
    outbox_positions: dict[str, int]


async def baseline(env: dict[str, str]) -> Baseline:
    positions = {}
    for database in DATABASES:
        conn = await asyncpg.connect(env[f"{database}_DATABASE_URL"])
        try:
            positions[database] = await conn.fetchval("SELECT coalesce(max(position), 0) FROM outbox")
        finally:
            await conn.close()
    return Baseline(await end_offsets(env["KAFKA_BOOTSTRAP_SERVERS"], DEAD_LETTER_TOPICS), positions)


async def unsent_outbox(env: dict[str, str], since: Baseline) -> tuple[int, int]:
    """Rows still to publish, and rows set aside (quarantined) because Kafka will never take them."""
    unsent = quarantined = 0
    for database in DATABASES:
        conn = await asyncpg.connect(env[f"{database}_DATABASE_URL"])
        try:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE quarantined_at IS NULL) AS unsent,"
                " count(*) FILTER (WHERE quarantined_at IS NOT NULL) AS quarantined"
                " FROM outbox WHERE sent_at IS NULL AND position > $1",
                since.outbox_positions[database],
            )
        finally:
            await conn.close()
        unsent, quarantined = unsent + row["unsent"], quarantined + row["quarantined"]
    return unsent, quarantined


async def dead_letters(env: dict[str, str], since: Baseline) -> list[ConsumerRecord]:
    return await records_since(env["KAFKA_BOOTSTRAP_SERVERS"], since.dead_letters, DEAD_LETTER_TOPICS)


async def expected_from_registrations(env: dict[str, str], registration_ids: list[str]) -> dict[str, Expected]:
    """What each registration that exists must end with, from its final state."""
    conn = await asyncpg.connect(env["REGISTRATION_DATABASE_URL"])
    try:
        rows = await conn.fetch(
            "SELECT id::text, status, email, wants_voucher FROM registrations WHERE id = ANY($1::uuid[])",
            registration_ids,
        )
    finally:
        await conn.close()
    return {r["id"]: expected_for(r["status"], r["email"], r["wants_voucher"]) for r in rows}


async def count(
    env: dict[str, str],
    since: Baseline,
    expected: dict[str, Expected],
    *,
    accepted: list[str] | None = None,
    session_ids: list[str] = (),
    ignore_dead_letter_keys: frozenset[bytes] = frozenset(),
) -> Tally:
    """The tally of these registrations; `accepted` are the ids answered 201 (HTTP runs only)."""
    tally = Tally()
    ids = list(expected)
    if accepted is not None:
        await _count_registrations(env, tally, accepted, session_ids)
    await _count_vouchers(env, tally, expected)
    await _count_emails(env, tally, expected)
    tally.dead_letters = sum(1 for r in await dead_letters(env, since) if r.key not in ignore_dead_letter_keys)
    tally.unsent_outbox, tally.quarantined_outbox = await unsent_outbox(env, since)
    assert len(ids) == len(set(ids))
    return tally


async def _count_registrations(env: dict[str, str], tally: Tally, accepted: list[str], session_ids) -> None:
    conn = await asyncpg.connect(env["REGISTRATION_DATABASE_URL"])
    try:
        tally.accepted = len(set(accepted))
        rows = await conn.fetch(
            "SELECT id::text, status, lower(email) AS email FROM registrations WHERE id = ANY($1::uuid[])",
            list(set(accepted)),
        )
        tally.rows = len(rows)
        tally.missing_rows = tally.accepted - tally.rows
        statuses = collections.Counter(r["status"] for r in rows)
        tally.confirmed, tally.waitlisted, tally.cancelled = (
            statuses[s] for s in ("confirmed", "waitlisted", "cancelled")
        )
        sessions = await conn.fetch(
            "SELECT s.id, s.capacity, s.seats_taken,"
            " (SELECT count(*) FROM registrations r WHERE r.session_id = s.id AND r.status = 'confirmed') AS held,"
            " (SELECT count(*) - count(DISTINCT lower(email)) FROM registrations r WHERE r.session_id = s.id)"
            "   AS doubled"
            " FROM sessions s WHERE s.id = ANY($1::uuid[])",
            list(session_ids),
        )
        tally.overbooked = sum(max(0, s["held"] - s["capacity"]) for s in sessions)
        tally.seats_not_matching_rows = sum(abs(s["seats_taken"] - s["held"]) for s in sessions)
        tally.rows_per_email_above_one = sum(s["doubled"] for s in sessions)
    finally:
        await conn.close()


async def _count_vouchers(env: dict[str, str], tally: Tally, expected: dict[str, Expected]) -> None:
    conn = await asyncpg.connect(env["TICKETING_DATABASE_URL"])
    try:
        holders = await conn.fetch(
            "SELECT registration_id::text FROM vouchers WHERE registration_id = ANY($1::uuid[])", list(expected)
        )
    finally:
        await conn.close()
    held = {r["registration_id"] for r in holders}
    tally.vouchers = len(holders)
    tally.missing_vouchers = sum(1 for rid, e in expected.items() if e.voucher and rid not in held)


async def _count_emails(env: dict[str, str], tally: Tally, expected: dict[str, Expected]) -> None:
    conn = await asyncpg.connect(env["NOTIFICATIONS_DATABASE_URL"])
    try:
        messages = await conn.fetch(
            "SELECT registration_id::text, kind, message_id, status FROM messages"
            " WHERE registration_id = ANY($1::uuid[])",
            list(expected),
        )
    finally:
        await conn.close()
    kind_of = {m["message_id"]: m["kind"] for m in messages}
    tally.failed_messages = sum(1 for m in messages if m["status"] == "failed")
    received = mailbox(env["SMTP_MAILDIR"])
    all_ids = []
    for e in expected.values():
        message_ids = received.get(e.email.lower(), [])
        all_ids += message_ids
        by_kind = collections.Counter(kind_of.get(message_id, "unknown") for message_id in set(message_ids))
        tally.emails_by_kind.update(kind_of.get(message_id, "unknown") for message_id in message_ids)
        tally.messages_by_kind.update(by_kind)
        tally.duplicate_emails += sum(n - 1 for n in by_kind.values() if n > 1)
        tally.resent_copies += len(message_ids) - len(set(message_ids))
        tally.missing_emails += len(e.kinds - set(by_kind))
    tally.emails = len(all_ids)
    tally.distinct_message_ids = len(set(all_ids))


async def settle(take, timeout: float, then: float = 3.0) -> tuple[object, float]:
    """Call `take()` (a coroutine giving a Tally) until it is complete or `timeout` passes; then, after
    `then` seconds more for a late duplicate to show, once again. Returns the last tally and how long
    it took to become complete (or the timeout)."""
    started = time.monotonic()
    while not (await take()).complete and time.monotonic() - started < timeout:
        await asyncio.sleep(1)
    took = time.monotonic() - started
    await asyncio.sleep(then)
    return await take(), took
