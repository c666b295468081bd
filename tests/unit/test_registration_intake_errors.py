"""Which failures mean the database is away (the whole batch answers 503) and which belong to one request."""

from __future__ import annotations

import asyncpg
import pytest
from registration.entrypoints.intake import unavailable


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError(),
        ConnectionRefusedError(),
        TimeoutError(),
        asyncpg.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.InternalClientError("unexpected connection state"),
    ],
)
def test_a_database_that_is_away_fails_the_whole_batch(error):
    assert unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.NotNullViolationError("null value in column"),
        asyncpg.UniqueViolationError("duplicate key"),
        asyncpg.DataError("invalid input"),
        ValueError("a bug"),
    ],
)
def test_an_error_of_one_request_is_not_taken_for_an_outage(error):
    assert not unavailable(error)
