"""Erasing a person's data from stored JSON and from the outbox, the same way in every service.

The rule is plain: every text that contains one of the person's values (name, address, phone...)
has that value replaced by its stand-in, whatever the letter case; fields that are bearer links
(`manage_url`) or signed copies of the person's data (`qr_payload`) are dropped to null. Outbox rows
of the person's keys not yet published are rewritten so, and published ones deleted: the copy on
Kafka ages out with the topic's retention (docs/adr/0007).
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from atelier_schemas import Message

from . import locks
from .consumer import AroundBatch

ERASED_NAME = "(erased)"
# Dropped to null: a bearer link, and a signed copy of the holder's name (base64, so no text search finds it).
DROPPED_FIELDS = frozenset({"manage_url", "sealed_manage_url", "qr_payload"})
# A value this short is replaced only where a whole text equals it: inside other texts ("Al" in "Salle 2",
# an id, a date) it would be noise, and damage what is not theirs.
SHORTEST_INSIDE = 4

JSON = Any  # what json.loads returns


def erased_email(reference: str) -> str:
    """A stand-in address that is never delivered (RFC 2606 reserves `.example`); the same reference gives the
    same address, so counts of distinct people stay what they were."""
    return f"erased-{reference}@erased.example"


def scrub(value: JSON, replacements: Mapping[str, str]) -> JSON:
    """`value` with each of the person's values replaced by its stand-in, whatever the case, and the
    `DROPPED_FIELDS` set to null."""
    return _Scrubber(replacements).scrub(value)


def scrub_text(text: str | None, replacements: Mapping[str, str]) -> str | None:
    return None if text is None else _Scrubber(replacements).scrub(text)


class _Scrubber:
    def __init__(self, replacements: Mapping[str, str]) -> None:
        self._whole = {k.casefold(): v for k, v in replacements.items() if k}
        inside = sorted((k for k in self._whole if len(k) >= SHORTEST_INSIDE), key=len, reverse=True)
        # Longest first, so "Lena Peeters" is replaced before "Lena" could be.
        self._inside = re.compile("|".join(map(re.escape, inside)), re.IGNORECASE) if inside else None

    def scrub(self, value: JSON) -> JSON:
        if isinstance(value, str):
            if value.casefold() in self._whole:
                return self._whole[value.casefold()]
            if self._inside is None:
                return value
            return self._inside.sub(lambda m: self._whole[m.group(0).casefold()], value)
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {k: None if k in DROPPED_FIELDS else self.scrub(v) for k, v in value.items()}
        return value


async def scrub_outbox(conn: asyncpg.Connection, keys: Sequence[str], replacements: Mapping[str, str]) -> int:
    """In the caller's transaction: delete the published rows of `keys`, rewrite the unpublished ones.

    Rows of other keys that mention one of the values (a rejection keyed by its command) are treated
    alike. Returns how many rows were touched. The outbox is small (published rows are purged after
    days), so the text search is cheap.
    """
    # The value is JSON with non-ASCII letters escaped: look for both spellings.
    values = sorted(
        {form.lower() for v in replacements if len(v) >= SHORTEST_INSIDE for form in (v, json.dumps(v)[1:-1])}
    )
    rows = await conn.fetch(
        "SELECT position, value, sent_at IS NOT NULL AS sent FROM outbox"
        " WHERE key = ANY($1::text[])"
        "  OR EXISTS (SELECT FROM unnest($2::text[]) AS v WHERE strpos(lower(convert_from(value, 'UTF8')), v) > 0)"
        " FOR UPDATE",
        list(keys),
        values,
    )
    sent = [row["position"] for row in rows if row["sent"]]
    if sent:
        await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", sent)
    rewritten = [
        (row["position"], json.dumps(scrub(json.loads(row["value"]), replacements), separators=(",", ":")).encode())
        for row in rows
        if not row["sent"]
    ]
    if rewritten:
        await conn.executemany("UPDATE outbox SET value = $2 WHERE position = $1", rewritten)
    return len(rows)


Scrub = Callable[[asyncpg.Connection, uuid.UUID, list[uuid.UUID]], Awaitable[None]]


async def remember_erased(conn: asyncpg.Connection, erasure_id: uuid.UUID, registration_ids: list[uuid.UUID]) -> None:
    """Note the erased registrations (table `erased_registrations` of the consuming service).

    Waits for the events of these registrations in flight, and holds back new ones until the
    erasure commits, so each is either scrubbed by the erasure or sees it (`late_events_scrubbed`).
    """
    await locks.lock_all(conn, locks.ERASURE, [str(r) for r in registration_ids])
    await conn.execute(
        "INSERT INTO erased_registrations (registration_id, erasure_id) SELECT unnest($1::uuid[]), $2"
        " ON CONFLICT DO NOTHING",
        registration_ids,
        erasure_id,
    )


def late_events_scrubbed(scrub: Scrub) -> AroundBatch:
    """What goes around a batch of events: their registrations erased already are scrubbed after the handlers.

    `PersonErased` travels under its erasure id, so an event of one of its registrations can still
    come after it from another partition (or a replayed dead letter) carrying the person's data: its
    effect is applied as usual — a voucher voided, a seat freed — and the data scrubbed in the same
    transaction.
    """

    @contextlib.asynccontextmanager
    async def around(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AsyncIterator[None]:
        registration_ids = list({str(r) for p in payloads if (r := getattr(p, "registration_id", None)) is not None})
        if not registration_ids:
            yield
            return
        # Shared: batches do not wait for each other, only for an erasure of one of their registrations.
        # Taken in remember_erased's order, all at once, so neither can hold one the other waits for.
        await locks.lock_all(conn, locks.ERASURE, shared=registration_ids)
        yield
        erased = await conn.fetch(
            "SELECT erasure_id, array_agg(registration_id) AS registration_ids FROM erased_registrations"
            " WHERE registration_id = ANY($1::uuid[]) GROUP BY erasure_id",
            registration_ids,
        )
        for row in erased:
            await scrub(conn, row["erasure_id"], row["registration_ids"])

    return around
