"""Transactional outbox: append in the caller's transaction, relay to Kafka afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from atelier_schemas import Message, to_cloud_event

from .errors import UNPUBLISHABLE, Unpublishable, outage, unpublishable
from .logs import correlation_id
from .metrics import OUTBOX_QUARANTINED
from .producer import Producer
from .telemetry import relayed_headers, trace_headers

log = structlog.get_logger(__name__)

_COLUMNS = "event_id, topic, key, headers, value"
_INSERT = f"INSERT INTO outbox ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"

Row = tuple[str, str, str, str, bytes]  # event_id, topic, key, headers (JSON), value


def row_for(message: Message, *, source: str, correlation: str | None = None, traceparent: str | None = None) -> Row:
    """The outbox row recording `message`: what `append_after` takes, and `columns` turns into arrays."""
    event = to_cloud_event(message, source=source, correlation_id=correlation or correlation_id.get())
    headers, value = event.to_kafka()
    return event.id, message.TOPIC, message.key(), json.dumps({**headers, **trace_headers(traceparent)}), value


def append_after(first: int, when: str) -> str:
    """A CTE appending one row when `when` holds: a change and the event it causes in one statement.
    The row is parameters `first` to `first + 4` (a `row_for`)."""
    event_id, topic, key, headers, value = (f"${n}" for n in range(first, first + 5))
    return (
        f"appended AS (INSERT INTO outbox ({_COLUMNS})"
        f" SELECT {event_id}::text, {topic}::text, {key}::text, {headers}::jsonb, {value}::bytea WHERE {when})"
    )


def append_all_after(first: int, when: str = "true") -> str:
    """A CTE appending rows in their order: a change and the events it causes in one statement. The rows
    are five arrays, parameters `first` to `first + 4` (see `columns`); each is appended when `when` holds
    of it, `r`. For one row, `append_after` costs less; for rows with nothing else to write, `append_many`."""
    event_id, topic, key, headers, value = (f"${n}" for n in range(first, first + 5))
    return (
        f"appended AS (INSERT INTO outbox ({_COLUMNS}) SELECT r.event_id, r.topic, r.key, r.headers, r.value"
        f" FROM unnest({event_id}::text[], {topic}::text[], {key}::text[], {headers}::jsonb[], {value}::bytea[])"
        f" WITH ORDINALITY AS r(event_id, topic, key, headers, value, n) WHERE {when} ORDER BY r.n)"
    )


def columns(rows: Sequence[Row]) -> list[list[Any]]:
    """The rows as the five arrays `append_all_after` takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in range(5)]


async def append(conn: asyncpg.Connection, message: Message, *, source: str) -> str:
    """Record `message` for publication; call inside the transaction that changed the state."""
    appended = row_for(message, source=source)
    await conn.execute(_INSERT, *appended)
    return appended[0]


async def append_many(
    conn: asyncpg.Connection,
    messages: Sequence[Message],
    *,
    source: str,
    correlation_ids: list[str | None] | None = None,
    traceparents: list[str | None] | None = None,
) -> None:
    """`append` for many messages in one round trip, in this order.

    `correlation_ids` and `traceparents` (one per message) when the messages answer different requests.
    """
    correlations = correlation_ids or [None] * len(messages)
    traces = traceparents or [None] * len(messages)
    await conn.executemany(
        _INSERT,
        [
            row_for(m, source=source, correlation=c, traceparent=t)
            for m, c, t in zip(messages, correlations, traces, strict=True)
        ],
    )


_LEASE = """
UPDATE outbox_relay_lease SET holder = $1, expires_at = clock_timestamp() + make_interval(secs => $2)
WHERE holder = $1 OR expires_at < clock_timestamp()
RETURNING true
"""
LEASE_MARGIN_SECONDS = 5.0  # for reading a batch, on top of the publish timeout, before a lease must be renewed
# How long a relay that found the lease taken trusts it is still held: a commit meanwhile only wakes the holder
# (one statement instead of three). Short, so that a lease handed back is taken up within about a second.
TRUST_TAKEN_SECONDS = 1.0
UNSENT = "SELECT EXISTS (SELECT FROM outbox WHERE sent_at IS NULL AND quarantined_at IS NULL)"
ROWS_WAITING = "outbox_rows_waiting"  # the channel on which a process without the lease wakes its holder
WAKE_HOLDER = f"SELECT pg_notify('{ROWS_WAITING}', '')"
_BATCH = """
SELECT position, event_id, topic, key, headers, value FROM outbox
WHERE sent_at IS NULL AND quarantined_at IS NULL ORDER BY position LIMIT $1
"""


class OutboxRelay:
    """Publishes unsent outbox rows in order and marks them sent; survives Kafka and Postgres failures.

    No transaction or pool connection is held while Kafka works: the relay takes a lease in one
    statement (only its holder publishes, so a key's events keep their order), reads a batch,
    publishes it under a timeout, then marks it sent. A lease lasts two publish timeouts and is
    renewed only once less than a publish and a margin of it is left: busy, a batch costs one read
    and one write, not a write for the lease as well. A Kafka or database failure is logged and
    retried with backoff; a row Kafka will never accept is quarantined.

    A commit wakes its own process's relay (`wake`); a process without the lease wakes the holder
    through Postgres (NOTIFY, heard by `listen`), so an event leaves at once rather than at the next
    poll. Batches start at least `linger_seconds` apart, so a steady stream of commits goes out
    in batches rather than one relay round trip each.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: Producer,
        *,
        batch_size: int = 500,
        idle_seconds: float = 0.5,
        linger_seconds: float = 0.05,
        publish_timeout: float = 15.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._linger_seconds = linger_seconds
        self._publish_timeout = publish_timeout
        self._lease_seconds = 2 * publish_timeout  # outlives a batch, so no two relays publish at once
        self._max_backoff = max_backoff
        self._holder = uuid.uuid4()
        self._lease_until = 0.0  # loop time until which the lease is surely ours (taken before asking for it)
        self._taken_until = 0.0  # loop time until which this relay trusts another process holds the lease
        self._committed = False  # woken by a commit of this process since the last look
        self._wakeup = asyncio.Event()
        self.quarantined = 0  # rows this process set aside

    def wake(self) -> None:
        """Something was appended: publish now rather than at the next poll."""
        self._committed = True
        self._wakeup.set()

    async def listen(self, database_url: str) -> None:
        """Wake the relay when another process commits events while this one holds the lease.

        Keeps a connection of its own (a pool connection cannot keep listening); ends with
        ConnectionError when that connection is lost, for the supervisor to start it again.
        """
        conn = await asyncpg.connect(database_url)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        try:
            await conn.add_listener(ROWS_WAITING, self._rows_waiting)
            await lost.wait()
            raise ConnectionError("the connection listening for outbox wake-ups was lost")
        finally:
            await conn.close(timeout=5)

    def _rows_waiting(self, *_: object) -> None:
        if self._lease_until > asyncio.get_running_loop().time():
            self._wakeup.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        while True:
            started = loop.time()
            self._wakeup.clear()  # before the batch: a commit during it is relayed by the next one
            try:
                moved = await self.relay_once()
            except Exception as exc:
                if not outage(exc):
                    raise  # a bug: the supervisor logs it and restarts the relay
                failures += 1
                delay = min(self._max_backoff, 0.1 * 2**failures)
                log.warning("outbox relay failed, will retry", error=repr(exc), delay=round(delay, 2))
                await asyncio.sleep(delay)
                continue
            failures = 0
            if moved < self._batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self._idle_seconds)
                await asyncio.sleep(started + self._linger_seconds - loop.time())

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows left the queue (sent or quarantined).

        Raises the Kafka error that stopped the batch, after marking what was published.
        """
        async with self._pool.acquire() as conn:
            if not await self._lease_for_waiting_rows(conn):
                return 0
            rows = await conn.fetch(_BATCH, self._batch_size)
        sent, quarantined, failure = await self._publish(rows)
        if sent or quarantined:
            await self._mark(sent, quarantined)
        for row, reason in quarantined:
            self.quarantined += 1
            OUTBOX_QUARANTINED.inc()
            log.error(
                "outbox row quarantined: Kafka will never accept it",
                position=row["position"],
                event_id=row["event_id"],
                topic=row["topic"],
                reason=reason,
            )
        log.debug("outbox relayed", count=len(sent))
        if failure is not None:
            await self._producer.discard_if_broken(failure)
            raise failure
        return len(sent) + len(quarantined)

    async def _lease_for_waiting_rows(self, conn: asyncpg.Connection) -> bool:
        """Whether this relay may publish: it holds the lease, or rows wait and it could take it.

        Rows waiting under another process's lease: wake that process's relay. A commit shortly after the
        lease was found taken only wakes it, without looking again.
        """
        if self._holds_lease():
            return True
        committed, self._committed = self._committed, False
        now = asyncio.get_running_loop().time()
        if committed and now < self._taken_until:  # the holder publishes what was just committed
            await conn.execute(WAKE_HOLDER)
            return False
        if not await conn.fetchval(UNSENT):
            return False
        if await self._take_lease(conn):
            return True
        self._taken_until = now + TRUST_TAKEN_SECONDS
        await conn.execute(WAKE_HOLDER)
        return False

    def _holds_lease(self) -> bool:
        """Whether the lease outlasts a batch read and published from now."""
        now = asyncio.get_running_loop().time()
        return now + self._publish_timeout + LEASE_MARGIN_SECONDS < self._lease_until

    async def _take_lease(self, conn: asyncpg.Connection) -> bool:
        asked_at = asyncio.get_running_loop().time()
        if not await conn.fetchval(_LEASE, self._holder, self._lease_seconds):
            return False
        self._lease_until = asked_at + self._lease_seconds
        return True

    async def _mark(self, sent: list[int], quarantined: list[tuple[asyncpg.Record, str]]) -> None:
        async with self._pool.acquire() as conn:
            if sent:
                await conn.execute("UPDATE outbox SET sent_at = now() WHERE position = ANY($1::bigint[])", sent)
            if quarantined:
                await conn.executemany(
                    "UPDATE outbox SET quarantined_at = now(), quarantine_reason = $2 WHERE position = $1",
                    [(row["position"], reason) for row, reason in quarantined],
                )

    async def _publish(
        self, rows: list[asyncpg.Record]
    ) -> tuple[list[int], list[tuple[asyncpg.Record, str]], BaseException | None]:
        """Publish `rows` in order: (positions sent, rows quarantined with why, the error that stopped us)."""
        deliveries: list[tuple[asyncpg.Record, asyncio.Future[RecordMetadata]]] = []
        quarantined: list[tuple[asyncpg.Record, str]] = []
        failure: BaseException | None = None
        try:
            async with asyncio.timeout(self._publish_timeout):
                for row in rows:
                    try:
                        deliveries.append((row, await self._producer.send(row["topic"], **_record(row))))
                    except UNPUBLISHABLE as exc:
                        quarantined.append((row, _reason(exc)))
                if deliveries:
                    await asyncio.wait([delivery for _, delivery in deliveries])
        except (KafkaError, TimeoutError) as exc:  # the rows not yet queued wait for the next batch
            failure = exc
        sent = []
        for row, delivery in deliveries:
            if delivery.done() and not delivery.cancelled():
                error = delivery.exception()
            else:
                error = TimeoutError("no acknowledgement in time")
            if error is None:
                sent.append(row["position"])
            elif unpublishable(error):
                quarantined.append((row, _reason(error)))
            else:
                failure = failure or error
        return sent, quarantined, failure

    async def release(self) -> None:
        """Hand the lease back on a clean stop, so another process's relay need not wait for it to expire."""
        self._lease_until = 0.0
        await self._pool.execute(
            "UPDATE outbox_relay_lease SET expires_at = '-infinity' WHERE holder = $1", self._holder
        )


def _record(row: asyncpg.Record) -> dict[str, Any]:
    """The record's key, value and headers; Unpublishable when a header is not text."""
    headers = relayed_headers(row["headers"], row["topic"])
    try:
        return {
            "key": row["key"].encode(),
            "value": row["value"],
            "headers": [(name, value.encode()) for name, value in headers.items()],
        }
    except (AttributeError, TypeError, ValueError) as exc:
        raise Unpublishable(f"key or headers are not text: {type(exc).__name__}") from exc


def _reason(exc: BaseException) -> str:
    """Why a row was set aside; Kafka's messages carry sizes, never the payload."""
    return f"{type(exc).__name__}: {exc}"[:500]
