"""Which failures pass by themselves (retry with backoff) and which never will (dead-letter).

One table for every retry decision in the services. A Postgres error is judged by its
SQLSTATE: the full code when listed, else its two-character class, else permanent. Kafka
errors are judged for the record (can it ever be published?) and for the producer (may it
be stuck?).
"""

from __future__ import annotations

import asyncpg
from aiokafka import errors as kafka

# SQLSTATE code or class -> True when the failure may pass by itself.
SQLSTATES: dict[str, bool] = {
    "08": True,  # connection exception: the server went away or refused us
    "25006": True,  # read-only transaction: a failover is under way
    "25P03": True,  # idle-in-transaction timeout: the server closed the session
    "40001": True,  # serialization failure
    "40P01": True,  # deadlock detected
    "53": True,  # insufficient resources: disk full, out of memory, too many connections
    "55P03": True,  # lock not available (lock_timeout)
    "57014": True,  # query cancelled: statement_timeout on a busy server
    "57P01": True,  # admin shutdown: a routine restart
    "57P02": True,  # crash shutdown
    "57P03": True,  # cannot connect now: starting up
    "58": True,  # system error outside Postgres (I/O)
    "22": False,  # data exception: this value will never fit
    "23": False,  # integrity constraint violation
    "42": False,  # syntax error or access rule violation: a bug
}


class TransientFailure(Exception):
    """Raised by a handler for a failure worth retrying (a service that is down, say)."""


class EarlierEventsFailed(Exception):
    """Raised by a handler when work left by earlier events of its batch (written late, together) fails for
    good: not its own event's fault. The batch is decided again one record at a time, which tells whose."""


def is_transient(exc: BaseException) -> bool:
    """True when retrying later may succeed; False when the same input will always fail."""
    if isinstance(exc, asyncpg.PostgresError):
        code = exc.sqlstate or ""
        return SQLSTATES.get(code, SQLSTATES.get(code[:2], False))
    if isinstance(exc, asyncpg.InterfaceError):
        # The connection or pool closed under us; anything else (a value asyncpg cannot encode,
        # a misuse of the API) fails the same way every time.
        return not isinstance(exc, ValueError) and ("connection is closed" in str(exc) or "pool is clos" in str(exc))
    # InternalClientError: the protocol lost its state when the server shut down mid-query.
    return isinstance(exc, OSError | TimeoutError | asyncpg.InternalClientError | TransientFailure)


class Unpublishable(ValueError):
    """An outbox row no Kafka record can carry (headers that are not text, say)."""


# Kafka refuses these records whatever the broker's state: retrying cannot help.
UNPUBLISHABLE = (kafka.MessageSizeTooLargeError, kafka.RecordTooLargeError, kafka.InvalidTopicError, Unpublishable)

# After these the idempotent producer may stay stuck for good (aiokafka #1017): start a new one.
PRODUCER_BROKEN = (
    kafka.OutOfOrderSequenceNumber,
    kafka.UnknownProducerId,
    kafka.ProducerFenced,
    kafka.InvalidProducerEpoch,
    kafka.ProducerClosed,
)


def unpublishable(exc: BaseException) -> bool:
    return isinstance(exc, UNPUBLISHABLE)


def breaks_producer(exc: BaseException) -> bool:
    """True for a producer error that is not about one record and that the producer will not retry."""
    if isinstance(exc, UNPUBLISHABLE):
        return False
    if isinstance(exc, PRODUCER_BROKEN):
        return True
    if isinstance(exc, kafka.KafkaError):
        return not exc.retriable  # KafkaTimeoutError among them: a send that never completes
    return isinstance(exc, TimeoutError)


def outage(exc: BaseException) -> bool:
    """A failure of the database or the broker rather than of our code: worth a warning, not a traceback."""
    return is_transient(exc) or (isinstance(exc, kafka.KafkaError) and not isinstance(exc, UNPUBLISHABLE))
