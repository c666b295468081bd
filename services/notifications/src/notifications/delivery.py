"""Delivers pending messages through SMTP, with retries that survive restarts."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import timedelta

import aiosmtplib
import asyncpg
import structlog
from atelier_platform import outbox
from atelier_platform.runtime import Runtime
from atelier_schemas import NotificationFailed, NotificationSent

from . import SOURCE
from .config import Settings
from .texts import build_email, render

log = structlog.get_logger(__name__)

BATCH = 20


def is_permanent(error: Exception) -> bool:
    """5xx replies will not change by retrying; everything else (4xx, network) may."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300.0, 2.0**attempts) * random.uniform(0.5, 1.0))


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self, runtime: Runtime) -> None:
        while True:
            try:
                handled = await self.deliver_due(runtime)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("delivery loop failed, will retry", error=str(exc))
                handled = 0
            if handled < BATCH:
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), 1.0)
                except TimeoutError:
                    pass

    async def deliver_due(self, runtime: Runtime) -> int:
        """Try every due message once; returns how many were tried."""
        async with runtime.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT m.*, c.name, c.email, c.language FROM messages m"
                " JOIN contacts c USING (registration_id)"
                " WHERE m.status = 'pending' AND m.next_attempt_at <= now()"
                " ORDER BY m.next_attempt_at LIMIT $1 FOR UPDATE OF m SKIP LOCKED",
                BATCH,
            )
            for row in rows:
                await self._deliver(conn, row)
        if rows:
            runtime.relay.wake()
        return len(rows)

    async def _deliver(self, conn: asyncpg.Connection, row: asyncpg.Record) -> None:
        subject, body = render(row["kind"], row["language"], row["name"], json.loads(row["context"]))
        email = build_email(
            sender=self._settings.mail_from, to=row["email"], subject=subject, body=body, message_id=row["message_id"]
        )
        attempts = row["attempts"] + 1
        try:
            await aiosmtplib.send(email, hostname=self._settings.smtp_host, port=self._settings.smtp_port, timeout=10)
        except (aiosmtplib.SMTPException, OSError) as exc:
            error = str(exc)[:500]
            if is_permanent(exc) or attempts >= self._settings.max_attempts:
                await conn.execute(
                    "UPDATE messages SET status = 'failed', attempts = $2, last_error = $3, subject = $4 WHERE id = $1",
                    row["id"],
                    attempts,
                    error,
                    subject,
                )
                await outbox.append(
                    conn,
                    NotificationFailed(
                        message_id=row["message_id"],
                        registration_id=row["registration_id"],
                        kind=row["kind"],
                        attempts=attempts,
                        error=error,
                    ),
                    source=SOURCE,
                )
                log.warning("message failed", kind=row["kind"], attempts=attempts, error=error)
            else:
                await conn.execute(
                    "UPDATE messages SET attempts = $2, last_error = $3, next_attempt_at = now() + $4 WHERE id = $1",
                    row["id"],
                    attempts,
                    error,
                    backoff(attempts),
                )
                log.info("message deferred", kind=row["kind"], attempts=attempts, error=error)
            return
        await conn.execute(
            "UPDATE messages SET status = 'sent', attempts = $2, subject = $3, sent_at = now(),"
            " last_error = NULL WHERE id = $1",
            row["id"],
            attempts,
            subject,
        )
        await outbox.append(
            conn,
            NotificationSent(
                message_id=row["message_id"],
                registration_id=row["registration_id"],
                kind=row["kind"],
                attempts=attempts,
            ),
            source=SOURCE,
        )
        log.info("message sent", kind=row["kind"], attempts=attempts)
