"""Sends pending messages through SMTP; the outcome of each attempt is committed with it.

A few senders work side by side (SKIP LOCKED), each on its own SMTP connection. Messages of one
registration leave in the order of their causes: a message waits while an earlier one of the same
registration is still pending. Retries are rows in the database, so they survive restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from typing import Any

import aiosmtplib
import asyncpg
import structlog
from atelier_platform import outbox
from atelier_platform.metrics import EMAILS
from atelier_platform.runtime import Runtime
from atelier_platform.telemetry import span_under
from atelier_schemas import NotificationFailed, NotificationSent

from . import SOURCE
from .compose import build_email
from .config import Settings
from .smtp import Mailer, ServerUnavailable, is_permanent, retry_delay

log = structlog.get_logger(__name__)

NEXT_DUE = """
SELECT m.id, m.kind, m.registration_id, m.message_id, m.context, m.attempts, m.created_at, m.traceparent,
       c.name, c.email, c.language
FROM messages m JOIN contacts c USING (registration_id)
WHERE m.status = 'pending' AND m.next_attempt_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM messages earlier
      WHERE earlier.registration_id = m.registration_id AND earlier.status = 'pending'
        AND (earlier.caused_at, earlier.created_at, earlier.id) < (m.caused_at, m.created_at, m.id))
ORDER BY m.next_attempt_at
LIMIT 1
FOR UPDATE OF m SKIP LOCKED
"""

SEND_ERRORS = (ServerUnavailable, aiosmtplib.SMTPException, OSError, ValueError)


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: every idle sender looks now rather than at its next poll."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def run(self, runtime: Runtime) -> None:
        await asyncio.gather(*(self._send_loop(runtime) for _ in range(self._settings.senders)))

    async def _send_loop(self, runtime: Runtime) -> None:
        mailer = Mailer(self._settings)
        try:
            while True:
                wakeup = self._wakeup  # taken before looking, so a wake during the look is not lost
                try:
                    delivered = await self._finishing_on_shutdown(self.deliver_next(runtime.pool, mailer))
                except Exception as exc:  # the database gone, or a bug: this sender must not die of it
                    log.warning("delivery loop failed, will retry", error=type(exc).__name__)
                    delivered = False
                if delivered:
                    continue
                # Idle: announce what was sent (during a burst the relay's own polling batches it),
                # and leave no connection for the server to time out.
                runtime.relay.wake()
                await mailer.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), self._settings.poll_seconds)
        finally:
            mailer.drop()

    @staticmethod
    async def _finishing_on_shutdown(attempt: Coroutine[Any, Any, bool]) -> bool:
        """A shutdown lets the attempt in hand finish and commit: cut between the server's
        "250 OK" and the commit, it would be sent again after the restart."""
        task = asyncio.ensure_future(attempt)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    async def deliver_next(self, pool: asyncpg.Pool, mailer: Mailer) -> bool:
        """Try the next due message once; False when none is due."""
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(NEXT_DUE)
            if row is None:
                return False
            with span_under("smtp send", row["traceparent"]):
                await self._attempt(conn, row, mailer)
        return True

    async def _attempt(self, conn: asyncpg.Connection, row: Mapping[str, Any], mailer: Mailer) -> None:
        attempts = row["attempts"] + 1
        try:
            email = build_email(row, sender=self._settings.mail_from)
        except Exception as exc:  # a template bug or an address no email can carry: retrying will not help
            await self._fail(conn, row, attempts, f"cannot build the email: {type(exc).__name__}: {exc}", None)
            return
        subject = str(email["Subject"])
        try:
            await mailer.send(email)
        except SEND_ERRORS as exc:
            if is_permanent(exc) or attempts >= self._settings.max_attempts:
                await self._fail(conn, row, attempts, describe(exc), subject)
            else:
                await self._defer(conn, row, attempts, describe(exc))
            return
        await conn.execute(
            "UPDATE messages SET status = 'sent', attempts = $2, subject = $3, sent_at = now(),"
            " last_error = NULL WHERE id = $1",
            row["id"],
            attempts,
            subject,
        )
        await outbox.append(conn, NotificationSent(**_about(row), attempts=attempts), source=SOURCE)
        EMAILS.labels("sent").inc()
        log.info("message sent", kind=row["kind"], attempts=attempts)

    async def _defer(self, conn: asyncpg.Connection, row: Mapping[str, Any], attempts: int, error: str) -> None:
        delay = retry_delay(attempts, self._settings.retry_base_seconds, self._settings.retry_max_seconds)
        await conn.execute(
            "UPDATE messages SET attempts = $2, last_error = $3, next_attempt_at = now() + $4 WHERE id = $1",
            row["id"],
            attempts,
            error,
            timedelta(seconds=delay),
        )
        EMAILS.labels("retried").inc()
        log.info("message deferred", kind=row["kind"], attempts=attempts, retry_in=round(delay, 2))

    async def _fail(
        self, conn: asyncpg.Connection, row: Mapping[str, Any], attempts: int, error: str, subject: str | None
    ) -> None:
        await conn.execute(
            "UPDATE messages SET status = 'failed', attempts = $2, last_error = $3, subject = $4 WHERE id = $1",
            row["id"],
            attempts,
            error,
            subject,
        )
        await outbox.append(conn, NotificationFailed(**_about(row), attempts=attempts, error=error), source=SOURCE)
        EMAILS.labels("failed").inc()
        log.warning("message failed", kind=row["kind"], attempts=attempts)


def _about(row: Mapping[str, Any]) -> dict[str, Any]:
    """What NotificationSent and NotificationFailed say about the message."""
    return {"message_id": row["message_id"], "registration_id": row["registration_id"], "kind": row["kind"]}


def describe(error: Exception) -> str:
    """The SMTP reply (code and text) when there is one, else the error's type and text."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "; ".join(f"{r.code} {r.message}" for r in error.recipients)[:500]
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return f"{error.code} {error.message}"[:500]
    return f"{type(error).__name__}: {error}"[:500]
