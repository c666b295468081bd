"""Notifications' part of erasing a person, and of forgetting past sessions' messages.

The message log keeps one row per email (kind, status, attempts, times: what was sent stays
countable), but not who it was for nor what it said: contacts get a stand-in name and address,
message contents, subjects and SMTP replies are scrubbed, and what was still to be sent — queued
messages, scheduled reminders — is cancelled.
"""

from __future__ import annotations

import json
import uuid

import asyncpg
from atelier_platform import outbox
from atelier_platform.anonymise import (
    ERASED_NAME,
    erased_email,
    remember_erased,
    scrub_outbox,
    scrub_text,
)
from atelier_platform.anonymise import scrub as scrub_json
from atelier_platform.retention import Purge, RetentionSettings, rows_affected
from atelier_schemas import CloudEvent, NotificationsErasureConfirmed, PersonErased

from . import SOURCE, reminders


async def on_person_erased(conn: asyncpg.Connection, event: CloudEvent, erased: PersonErased) -> None:
    await remember_erased(conn, erased.erasure_id, erased.registration_ids)
    await scrub(conn, erased.erasure_id, erased.registration_ids)
    await outbox.append(conn, NotificationsErasureConfirmed(erasure_id=erased.erasure_id), source=SOURCE)


async def scrub(conn: asyncpg.Connection, erasure_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    """These registrations' contacts, messages and outbox rows scrubbed; what was still to be sent, cancelled."""
    contacts = await conn.fetch(
        "SELECT name, email FROM contacts WHERE registration_id = ANY($1::uuid[]) FOR UPDATE", ids
    )
    stand_in = erased_email(erasure_id.hex[:20])
    replacements = {
        **{row["name"]: ERASED_NAME for row in contacts},
        **{row["email"]: stand_in for row in contacts},
    }
    await conn.execute(
        "UPDATE contacts SET name = $2, email = $3, sealed_manage_url = NULL, updated_at = now()"
        " WHERE registration_id = ANY($1::uuid[])",
        ids,
        ERASED_NAME,
        stand_in,
    )
    await reminders.cancel(conn, ids)
    await conn.execute(
        "UPDATE messages SET status = 'cancelled' WHERE registration_id = ANY($1::uuid[]) AND status = 'pending'", ids
    )
    await _scrub_messages(conn, ids, replacements)
    await scrub_outbox(conn, [str(r) for r in ids], replacements)


async def _scrub_messages(conn: asyncpg.Connection, ids: list[uuid.UUID], replacements: dict[str, str]) -> None:
    messages = await conn.fetch(
        "SELECT id, context, subject, last_error FROM messages WHERE registration_id = ANY($1::uuid[]) FOR UPDATE",
        ids,
    )
    # A voucher email's context names its holder as ticketing had it.
    holders = {m["holder_name"] for m in (json.loads(row["context"]) for row in messages) if m.get("holder_name")}
    replacements = {**replacements, **dict.fromkeys(holders, ERASED_NAME)}
    await conn.executemany(
        "UPDATE messages SET context = $2, subject = $3, last_error = $4 WHERE id = $1",
        [
            (
                row["id"],
                json.dumps(scrub_json(json.loads(row["context"]), replacements)),
                scrub_text(row["subject"], replacements),
                scrub_text(row["last_error"], replacements),
            )
            for row in messages
        ],
    )


async def anonymise_past_sessions(conn: asyncpg.Connection, settings: RetentionSettings) -> int:
    """Contacts and message contents of sessions that ended more than `past_sessions_months` ago."""
    past = await conn.fetch(
        "UPDATE contacts SET name = $2, sealed_manage_url = NULL, updated_at = now(),"
        " email = 'erased-' || replace(registration_id::text, '-', '') || '@erased.example'"
        " WHERE ends_at < now() - make_interval(months => $1) AND name <> $2 RETURNING registration_id",
        settings.past_sessions_months,
        ERASED_NAME,
    )
    cleared = await conn.execute(
        "UPDATE messages SET context = '{}', last_error = NULL"
        " WHERE registration_id = ANY($1::uuid[]) AND status <> 'pending'",
        [row["registration_id"] for row in past],
    )
    return len(past) + rows_affected(cleared)


PURGES = (Purge("past_sessions", anonymise_past_sessions),)
