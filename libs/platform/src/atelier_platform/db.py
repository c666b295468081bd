"""Postgres: one pool per process, migrations before start."""

from __future__ import annotations

from pathlib import Path

import asyncpg
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


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Nothing to reset: our code never changes session state (no SET, LISTEN or session-level
    locks; advisory locks are transaction-level). Skipping asyncpg's reset saves a round trip
    on every release, which on a busy machine is a good part of a request's cost."""


async def create_pool(database_url: str, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max_size, reset=_keep_session)
    assert pool is not None
    return pool
