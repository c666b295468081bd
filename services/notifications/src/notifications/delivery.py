"""Sends pending messages through SMTP; the outcome of each attempt is committed with it.

A few senders work side by side (SKIP LOCKED), each on its own SMTP connection. Messages of one
registration leave in the order of their causes: a message waits while an earlier one of the same
registration is still pending. Retries are rows in the database, so they survive restarts.

An outage (the server unreachable, timing out, or refusing our session) is not the message's
fault: it costs the message no attempt, and every sender pauses (a circuit breaker, with backoff)
until a try gets through. Whatever keeps a message from going out — its own transient failures or
an outage — it is retried until it has been waiting `give_up_after` since it was queued; then it
fails (`NotificationFailed`), until an operator re-queues it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
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
from .manage_links import with_manage_link
from .smtp import SESSION_REFUSED, Mailer, ServerUnavailable, is_permanent, retry_delay

log = structlog.get_logger(__name__)

NEXT_DUE = """
SELECT m.id, m.kind, m.registration_id, m.message_id, m.context, m.attempts, m.created_at, m.traceparent,
       now() - m.retry_window_from AS waiting, c.name, c.email, c.language
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
# 4xx replies that close or refuse the whole session (service not available, TLS not available now).
SESSION_UNAVAILABLE = frozenset({421, 454})


def is_outage(error: Exception) -> bool:
    """The server, or the way to it, is out: no message is to blame.

    Connection refused or reset, timeouts, a server that cannot be connected, STARTTLS'd or logged in
    to, and replies that refuse the session (421, 454, 530, 534, 535, 538). A reply about this
    message or its recipients (any other 4xx or 5xx) is the message's own.
    """
    if isinstance(error, ServerUnavailable | OSError):  # aiosmtplib's disconnects and timeouts are OSErrors
        return True
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code in SESSION_UNAVAILABLE or error.code in SESSION_REFUSED
    return False


@dataclass
class DeliveryCounters:
    """Running totals since the process started, for logs now and metrics later."""

    sent: int = 0
    deferred: int = 0  # a message's own transient failure, to be retried
    failed: int = 0  # messages given up
    outages: int = 0  # tries that found the server out


class CircuitBreaker:
    """Open while the SMTP server is out: no sender tries until the pause is over.

    Each outage found while trying doubles the pause (from `base` up to `longest`, with jitter);
    the first try that gets through closes it.
    """

    def __init__(self, base_seconds: float, longest_seconds: float) -> None:
        self._base, self._longest = base_seconds, longest_seconds
        self._pause = 0.0
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return asyncio.get_running_loop().time() < self._open_until

    def outage(self) -> float:
        """Open (again); the pause in seconds. Other senders finding the same outage do not lengthen it."""
        now = asyncio.get_running_loop().time()
        if now < self._open_until:
            return self._open_until - now
        self._pause = min(self._longest, self._pause * 2 or self._base)
        pause = self._pause * random.uniform(0.75, 1.0)
        self._open_until = now + pause
        return pause

    def got_through(self) -> None:
        self._pause, self._open_until = 0.0, 0.0


async def requeue_failed(pool: asyncpg.Pool, registration_id: uuid.UUID | None = None) -> int:
    """Give failed messages (of one registration, or all) a new window: pending again, due now."""
    return len(
        await pool.fetch(
            "UPDATE messages SET status = 'pending', next_attempt_at = now(), retry_window_from = now()"
            " WHERE status = 'failed' AND ($1::uuid IS NULL OR registration_id = $1) RETURNING id",
            registration_id,
        )
    )


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wakeup = asyncio.Event()
        self.breaker = CircuitBreaker(settings.retry_base_seconds, settings.outage_max_pause_seconds)
        self.counters = DeliveryCounters()

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
        """Try the next due message once; False when none is due, or the server is out and paused for."""
        if self.breaker.is_open:
            return False
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
            email = build_email(with_manage_link(row, self._settings.manage_link_key), sender=self._settings.mail_from)
        except Exception as exc:  # a template bug or an address no email can carry: retrying will not help
            await self._fail(conn, row, attempts, f"cannot build the email: {type(exc).__name__}: {exc}", None)
            return
        subject = str(email["Subject"])
        try:
            await mailer.send(email)
        except SEND_ERRORS as exc:
            if is_outage(exc) and row["waiting"] >= self._settings.give_up_after:
                # Not the message's fault, but its window is over: it fails visibly, to be re-queued.
                await self._fail(conn, row, row["attempts"], describe(exc), subject)
            elif is_outage(exc):
                await self._pause(conn, row, describe(exc))
            elif is_permanent(exc) or row["waiting"] >= self._settings.give_up_after:
                await self._fail(conn, row, attempts, describe(exc), subject)
            else:
                await self._defer(conn, row, attempts, describe(exc))
            return
        self.breaker.got_through()
        self.counters.sent += 1
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

    async def _pause(self, conn: asyncpg.Connection, row: Mapping[str, Any], error: str) -> None:
        """The server is out: every sender pauses; the message keeps its attempts. It waits out the
        pause itself, so that a message the server chokes on cannot hold up all the others."""
        pause = self.breaker.outage()
        await conn.execute(
            "UPDATE messages SET last_error = $2, next_attempt_at = now() + $3 WHERE id = $1",
            row["id"],
            error,
            timedelta(seconds=pause),
        )
        self.counters.outages += 1
        EMAILS.labels("server_out").inc()
        log.warning("smtp server unavailable, pausing", retry_in=round(pause, 2), outages=self.counters.outages)

    async def _defer(self, conn: asyncpg.Connection, row: Mapping[str, Any], attempts: int, error: str) -> None:
        delay = retry_delay(attempts, self._settings.retry_base_seconds, self._settings.retry_max_seconds)
        await conn.execute(
            "UPDATE messages SET attempts = $2, last_error = $3, next_attempt_at = now() + $4 WHERE id = $1",
            row["id"],
            attempts,
            error,
            timedelta(seconds=delay),
        )
        self.counters.deferred += 1
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
        self.counters.failed += 1
        EMAILS.labels("failed").inc()
        log.warning("message failed", kind=row["kind"], attempts=attempts, failed=self.counters.failed)


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
