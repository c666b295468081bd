"""Throwaway databases on the test Postgres server, for a process or a test that needs its own."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from atelier_platform.db import create_pool, migrate
from notifications.config import MIGRATIONS


def with_database(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, prefix: str) -> AsyncIterator[str]:
    """A new empty database on the server of `server_url`; dropped afterwards. Yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield with_database(server_url, name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@dataclass(frozen=True)
class Database:
    url: str
    pool: asyncpg.Pool


@contextlib.asynccontextmanager
async def notifications_database(server_url: str, prefix: str) -> AsyncIterator[Database]:
    """A fresh, migrated notifications database and a pool on it."""
    async with fresh_database(server_url, prefix) as url:
        await asyncio.to_thread(migrate, url, MIGRATIONS)
        pool = await create_pool(url)
        try:
            yield Database(url, pool)
        finally:
            await pool.close()
