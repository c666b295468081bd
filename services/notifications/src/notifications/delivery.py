"""Sends pending messages through SMTP in rounds; the outcomes of a round are committed with it.

Each round claims up to `messages_per_round` due messages in one statement (FOR UPDATE SKIP LOCKED,
so processes and replicas never claim the same message), sends them side by side over its pool of
`smtp_connections` kept-open SMTP connections, one message per connection at a time, and records
every outcome in one statement, in the transaction holding the claim. A process runs
`delivery_rounds` rounds side by side, each over connections of its own, so that one round's
database work overlaps another's sending. A process killed between the server's "250 OK" and that
commit sends the messages of its rounds in hand again.

Messages of one registration leave in the order of their causes: a message waits while an
earlier one of the same registration is still pending. Rounds claim in that same order (an index on
it), so the head of each registration's line is found first, however many messages wait behind an
earlier one. Retries are rows in the database, so they survive restarts.

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
from typing import Any

import aiosmtplib
import asyncpg
import structlog
from atelier_platform import outbox
from atelier_platform.metrics import EMAILS
from atelier_platform.runtime import Runtime
from atelier_platform.telemetry import current_traceparent, span_under
from atelier_schemas import NotificationFailed, NotificationSent

from . import SOURCE
from .compose import build_email
from .config import Settings
from .manage_links import with_manage_link
from .smtp import SESSION_REFUSED, MailerPool, ServerUnavailable, is_permanent, retry_delay

log = structlog.get_logger(__name__)

# A message is claimable when it heads its registration's line. That test is a subquery with LIMIT,
# which Postgres runs per candidate through the index, never as a join: the NOT EXISTS it replaces
# was planned, on a young table without statistics, as a scan of every pending message per
# candidate (one round every two seconds with 4,000 waiting, until autovacuum analysed the table).
# The claim walks the pending messages in cause order and stops at the round's size: see `claim_due`.
DUE = """
SELECT m.id, m.kind, m.registration_id, m.message_id, m.context, m.attempts, m.created_at, m.traceparent,
       now() - m.retry_window_from AS waiting, c.name, c.email, c.language
FROM messages m JOIN contacts c USING (registration_id)
WHERE m.status = 'pending' AND m.next_attempt_at <= now()
  AND m.id = (
      SELECT head.id FROM messages head
      WHERE head.registration_id = m.registration_id AND head.status = 'pending'
      ORDER BY head.caused_at, head.created_at, head.id
      LIMIT 1)
ORDER BY m.caused_at, m.created_at, m.id
LIMIT $1
FOR UPDATE OF m SKIP LOCKED
"""

# One statement for a round's outcomes and the events announcing them. `retry_in` NULL keeps the due time;
# a message still pending keeps its subject.
RECORD = f"""
WITH recorded AS (
    UPDATE messages m SET
        status = o.status,
        attempts = o.attempts,
        last_error = o.last_error,
        subject = CASE WHEN o.status = 'pending' THEN m.subject ELSE o.subject END,
        next_attempt_at = CASE WHEN o.retry_in IS NULL THEN m.next_attempt_at
                               ELSE now() + make_interval(secs => o.retry_in) END,
        sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE m.sent_at END
    FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[], $6::float8[])
         AS o(id, status, attempts, last_error, subject, retry_in)
    WHERE m.id = o.id),
{outbox.append_all_after(7)}
SELECT
"""

# Statistics taken while the queue was short (a young table, or a quiet hour) make Postgres read every
# pending message, test each against its line and sort them all, to keep a handful: 25-30 ms a round
# with 8,000 waiting in a burst, instead of 0.3 ms. Without sorting, the one plan left is the walk of
# the cause-order index that stops once the round is full, whatever the statistics say.
WALK_THE_INDEX = "SET LOCAL enable_sort = off"

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
        """Open (again); the pause in seconds. Other messages finding the same outage do not lengthen it."""
        now = asyncio.get_running_loop().time()
        if now < self._open_until:
            return self._open_until - now
        self._pause = min(self._longest, self._pause * 2 or self._base)
        pause = self._pause * random.uniform(0.75, 1.0)
        self._open_until = now + pause
        return pause

    def got_through(self) -> None:
        self._pause, self._open_until = 0.0, 0.0


async def claim_due(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Lock up to `limit` due messages that head their registration's line, oldest cause first, in the
    caller's transaction; the rows of DUE."""
    await conn.execute(WALK_THE_INDEX)
    return list(await conn.fetch(DUE, limit))


async def requeue_failed(pool: asyncpg.Pool, registration_id: uuid.UUID | None = None) -> int:
    """Give failed messages (of one registration, or all) a new window: pending again, due now."""
    return len(
        await pool.fetch(
            "UPDATE messages SET status = 'pending', next_attempt_at = now(), retry_window_from = now()"
            " WHERE status = 'failed' AND ($1::uuid IS NULL OR registration_id = $1) RETURNING id",
            registration_id,
        )
    )


@dataclass(frozen=True)
class Outcome:
    """What one attempt did to its message: the row's new values, and the event to announce, if any."""

    status: str  # 'sent', 'pending' (to be retried) or 'failed'
    attempts: int
    error: str | None = None
    subject: str | None = None
    retry_in: float | None = None  # seconds until the next attempt; None keeps the due time
    event: NotificationSent | NotificationFailed | None = None
    traceparent: str | None = None  # of the attempt's span, carried by the event
    outage: bool = False  # the server was out: no attempt charged


class Deliverer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._wakeup = asyncio.Event()
        self.breaker = CircuitBreaker(settings.retry_base_seconds, settings.outage_max_pause_seconds)
        self.counters = DeliveryCounters()

    def wake(self) -> None:
        """Something was queued: an idle deliverer looks now rather than at its next poll."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def run(self, runtime: Runtime) -> None:
        """`delivery_rounds` loops of rounds side by side. One loop alone leaves its connections idle while it
        waits on Postgres (claim, record, commit), and at a steady 100 registrations/s its queue grew."""
        async with asyncio.TaskGroup() as loops:
            for _ in range(self._settings.delivery_rounds):
                loops.create_task(self._deliver(runtime))

    async def _deliver(self, runtime: Runtime) -> None:
        mailers = MailerPool(self._settings)
        try:
            while True:
                wakeup = self._wakeup  # taken before looking, so a wake during the look is not lost
                try:
                    delivered = await self._finishing_on_shutdown(self.deliver_round(runtime.pool, mailers))
                except Exception as exc:  # the database gone, or a bug: delivery must not die of it
                    log.warning("delivery loop failed, will retry", error=type(exc).__name__)
                    delivered = 0
                if delivered:
                    continue
                # Idle: announce what was sent (during a burst the relay's own polling batches it).
                runtime.relay.wake()
                await mailers.close_if_idle()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wakeup.wait(), self._settings.poll_seconds)
        finally:
            mailers.drop()

    @staticmethod
    async def _finishing_on_shutdown(attempt: Coroutine[Any, Any, int]) -> int:
        """A shutdown lets the round in hand finish and commit: cut between the server's
        "250 OK" and the commit, its messages would be sent again after the restart."""
        task = asyncio.ensure_future(attempt)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    async def deliver_round(self, pool: asyncpg.Pool, mailers: MailerPool) -> int:
        """Try due messages once each, up to `messages_per_round`; how many were claimed.

        0 when none is due, or the server is out and paused for."""
        if self.breaker.is_open:
            return 0
        async with pool.acquire() as conn, conn.transaction():
            rows = await claim_due(conn, self._settings.messages_per_round)
            if not rows:
                return 0
            # Every attempt runs to its end before the round is recorded: none is left sending unrecorded.
            results = await asyncio.gather(*(self._attempt(row, mailers) for row in rows), return_exceptions=True)
            outcomes = [r for r in results if isinstance(r, Outcome)]
            await self._record(conn, [(row, r) for row, r in zip(rows, results, strict=True) if isinstance(r, Outcome)])
        pauses = [o.retry_in for o in outcomes if o.outage and o.retry_in is not None]
        if pauses:  # one try of the server per round, however many of its messages found it out
            self.counters.outages += 1
            EMAILS.labels("server_out").inc()
            pause = round(max(pauses), 2)
            log.warning("smtp server unavailable, pausing", retry_in=pause, outages=self.counters.outages)
        for result in results:
            if isinstance(result, BaseException):  # a bug: its message stays due, the others are recorded
                raise result
        return len(rows)

    async def _attempt(self, row: Mapping[str, Any], mailers: MailerPool) -> Outcome | None:
        """None: not tried, because another message of the round found the server out."""
        with span_under("smtp send", row["traceparent"]):
            traceparent = current_traceparent()
            return await self._try(row, mailers, traceparent)

    async def _try(self, row: Mapping[str, Any], mailers: MailerPool, traceparent: str | None) -> Outcome | None:
        attempts = row["attempts"] + 1
        try:
            email = build_email(with_manage_link(row, self._settings.manage_link_key), sender=self._settings.mail_from)
        except Exception as exc:  # a template bug or an address no email can carry: retrying will not help
            error = f"cannot build the email: {type(exc).__name__}: {exc}"
            return self._failed(row, attempts, error, None, traceparent)
        subject = str(email["Subject"])
        async with mailers.mailer() as mailer:
            if self.breaker.is_open:
                return None
            try:
                await mailer.send(email, row["email"])
            except SEND_ERRORS as exc:
                if is_outage(exc) and row["waiting"] >= self._settings.give_up_after:
                    # Not the message's fault, but its window is over: it fails visibly, to be re-queued.
                    return self._failed(row, row["attempts"], describe(exc), subject, traceparent)
                if is_outage(exc):
                    return self._paused(row, describe(exc))
                if is_permanent(exc) or row["waiting"] >= self._settings.give_up_after:
                    return self._failed(row, attempts, describe(exc), subject, traceparent)
                return self._deferred(row, attempts, describe(exc))
        self.breaker.got_through()
        self.counters.sent += 1
        EMAILS.labels("sent").inc()
        log.info("message sent", kind=row["kind"], attempts=attempts)
        event = NotificationSent(**_about(row), attempts=attempts)
        return Outcome("sent", attempts, subject=subject, event=event, traceparent=traceparent)

    async def _record(self, conn: asyncpg.Connection, outcomes: list[tuple[Mapping[str, Any], Outcome]]) -> None:
        """Every outcome of the round and the events announcing them, in one statement."""
        announced = [
            outbox.row_for(o.event, source=SOURCE, traceparent=o.traceparent)
            for _, o in outcomes
            if o.event is not None
        ]
        await conn.execute(
            RECORD,
            [row["id"] for row, _ in outcomes],
            [o.status for _, o in outcomes],
            [o.attempts for _, o in outcomes],
            [o.error for _, o in outcomes],
            [o.subject for _, o in outcomes],
            [o.retry_in for _, o in outcomes],
            *outbox.columns(announced),
        )

    def _paused(self, row: Mapping[str, Any], error: str) -> Outcome:
        """The server is out: every sender pauses; the message keeps its attempts. It waits out the
        pause itself, so that a message the server chokes on cannot hold up all the others."""
        return Outcome("pending", row["attempts"], error=error, retry_in=self.breaker.outage(), outage=True)

    def _deferred(self, row: Mapping[str, Any], attempts: int, error: str) -> Outcome:
        delay = retry_delay(attempts, self._settings.retry_base_seconds, self._settings.retry_max_seconds)
        self.counters.deferred += 1
        EMAILS.labels("retried").inc()
        log.info("message deferred", kind=row["kind"], attempts=attempts, retry_in=round(delay, 2))
        return Outcome("pending", attempts, error=error, retry_in=delay)

    def _failed(
        self, row: Mapping[str, Any], attempts: int, error: str, subject: str | None, traceparent: str | None
    ) -> Outcome:
        self.counters.failed += 1
        EMAILS.labels("failed").inc()
        log.warning("message failed", kind=row["kind"], attempts=attempts, failed=self.counters.failed)
        event = NotificationFailed(**_about(row), attempts=attempts, error=error)
        return Outcome("failed", attempts, error=error, subject=subject, event=event, traceparent=traceparent)


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
