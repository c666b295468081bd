"""Postgres: one pool per process, migrations before start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from yoyo import get_backend, read_migrations

PLATFORM_MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(database_url: str, service_migrations: Path) -> int:
    """Apply this platform's and the service's pending migrations; returns how many ran."""
    backend = get_backend(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrations = read_migrations(str(PLATFORM_MIGRATIONS), str(service_migrations))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)


async def keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset: our code never changes session state (no SET, LISTEN or session-level
    locks; advisory locks are transaction-level). Skipping asyncpg's reset saves a round trip
    on every release, which on a busy machine is a good part of a request's cost."""


class PoolTimeouts(BaseSettings):
    """How long a database call may take before it fails (and is retried as transient), in seconds."""

    model_config = SettingsConfigDict(env_prefix="DATABASE_", extra="ignore", hide_input_in_errors=True)

    acquire_timeout: float = Field(default=10, gt=0, description="waiting for a free pool connection")
    command_timeout: float = Field(default=30, gt=0, description="one query, measured by the client")
    statement_timeout: float = Field(default=25, gt=0, description="one statement, enforced by the server")
    idle_in_transaction_timeout: float = Field(
        default=60, gt=0, description="a transaction left open without work; the server ends the session"
    )


class Pool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg ships no type information
    """An asyncpg pool whose `acquire()` gives up after the acquire timeout instead of waiting for ever."""

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> asyncpg.pool.PoolAcquireContext:
        return super().acquire(timeout=timeout or self._acquire_timeout)


async def create_pool(database_url: str, max_size: int = 10, timeouts: PoolTimeouts | None = None) -> asyncpg.Pool:
    timeouts = timeouts or PoolTimeouts()
    pool = Pool(  # asyncpg.create_pool's defaults, which cannot build a subclass
        database_url,
        acquire_timeout=timeouts.acquire_timeout,
        init_size=None,
        min_size=1,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        connect=None,
        setup=None,
        init=None,
        reset=keep_session,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        command_timeout=timeouts.command_timeout,
        server_settings={
            "statement_timeout": str(int(timeouts.statement_timeout * 1000)),
            "idle_in_transaction_session_timeout": str(int(timeouts.idle_in_transaction_timeout * 1000)),
        },
    )
    return await pool
