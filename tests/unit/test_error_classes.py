"""The error table: what is retried with backoff, what is dead-lettered, what Kafka will never take."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import errors as kafka
from asyncpg.exceptions._base import DataError as ClientDataError
from atelier_platform.errors import TransientFailure, Unpublishable, breaks_producer, is_transient, unpublishable


def postgres_error(sqlstate: str) -> asyncpg.PostgresError:
    """The exception asyncpg raises for a server error with this SQLSTATE."""
    return asyncpg.PostgresError.new({"C": sqlstate, "M": "from the server", "S": "ERROR"})


@pytest.mark.parametrize(
    ("sqlstate", "meaning"),
    [
        ("08000", "connection exception"),
        ("08006", "connection failure"),
        ("25006", "read-only transaction during a failover"),
        ("25P03", "idle-in-transaction session timeout"),
        ("40001", "serialization failure"),
        ("40P01", "deadlock detected"),
        ("53000", "insufficient resources"),
        ("53300", "too many connections"),
        ("55P03", "lock not available"),
        ("57014", "statement timeout"),
        ("57P01", "admin shutdown"),
        ("57P02", "crash shutdown"),
        ("57P03", "cannot connect now"),
        ("58030", "I/O error"),
    ],
)
def test_a_server_error_that_may_pass_by_itself_is_transient(sqlstate, meaning):
    assert is_transient(postgres_error(sqlstate)), meaning


@pytest.mark.parametrize(
    ("sqlstate", "meaning"),
    [
        ("22001", "string too long"),
        ("22P02", "invalid text representation"),
        ("23505", "unique violation"),
        ("23503", "foreign key violation"),
        ("42703", "undefined column"),
        ("42501", "insufficient privilege"),
        ("55000", "object not in prerequisite state (55 is not transient as a class)"),
        ("XX000", "internal error"),
    ],
)
def test_a_server_error_the_same_input_will_always_meet_is_permanent(sqlstate, meaning):
    assert not is_transient(postgres_error(sqlstate)), meaning


def test_the_subclasses_asyncpg_raises_follow_their_sqlstate():
    assert is_transient(asyncpg.AdminShutdownError("terminating connection due to administrator command"))
    assert is_transient(asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"))
    assert not is_transient(asyncpg.UniqueViolationError("duplicate key"))


def test_losing_the_connection_is_transient():
    assert is_transient(ConnectionResetError("reset by peer"))
    assert is_transient(OSError("network unreachable"))
    assert is_transient(TimeoutError())
    assert is_transient(asyncpg.InterfaceError("connection is closed"))
    assert is_transient(asyncpg.InterfaceError("pool is closing"))
    assert is_transient(asyncpg.InternalClientError("got result for unknown protocol state 3"))
    assert is_transient(TransientFailure("the SMTP server is down"))


def test_a_value_asyncpg_cannot_encode_is_never_retried():
    assert not is_transient(asyncpg.DataError("invalid input for query argument $1"))
    assert not is_transient(ClientDataError("invalid input for query argument $1"))


def test_a_misuse_of_the_driver_and_a_decoding_error_are_permanent():
    assert not is_transient(asyncpg.InterfaceError("cannot perform operation: another operation is in progress"))
    assert not is_transient(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
    assert not is_transient(ValueError("payload breaks its contract"))
    assert not is_transient(KeyError("bug"))


@pytest.mark.parametrize(
    "error",
    [
        kafka.OutOfOrderSequenceNumber(),
        kafka.UnknownProducerId(),
        kafka.ProducerFenced(),
        kafka.InvalidProducerEpoch(),
        kafka.ProducerClosed(),
        kafka.KafkaTimeoutError(),
        TimeoutError(),
    ],
)
def test_a_producer_error_that_may_leave_it_stuck_has_it_rebuilt(error):
    assert breaks_producer(error)


@pytest.mark.parametrize(
    "error", [kafka.KafkaConnectionError(), kafka.NotLeaderForPartitionError(), kafka.UnknownTopicOrPartitionError()]
)
def test_an_error_the_producer_retries_by_itself_keeps_it(error):
    assert not breaks_producer(error) and not unpublishable(error)


@pytest.mark.parametrize(
    "error", [kafka.MessageSizeTooLargeError(), kafka.RecordTooLargeError(), Unpublishable("headers are not text")]
)
def test_a_record_kafka_will_never_accept_is_set_aside_and_the_producer_kept(error):
    assert unpublishable(error) and not breaks_producer(error)
