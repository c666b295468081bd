"""Pools on the real databases, migrated, for tests that call a service's use cases directly."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from atelier_devkit.databases import fresh_database
from atelier_platform.db import create_pool, migrate
from registration.config import MIGRATIONS as REGISTRATION_MIGRATIONS


@pytest.fixture(scope="session")
async def registration_pool(infra):
    migrate(infra["REGISTRATION_DATABASE_URL"], REGISTRATION_MIGRATIONS)
    pool = await create_pool(infra["REGISTRATION_DATABASE_URL"], max_size=30)
    yield pool
    await pool.close()


@pytest.fixture
async def fresh_registration_db(infra):
    """A new, migrated registration database of its own, dropped afterwards."""
    server_url, _, _ = infra["REGISTRATION_DATABASE_URL"].rpartition("/")
    name = f"registration_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{server_url}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url}/{name}"
    try:
        migrate(url, REGISTRATION_MIGRATIONS)
        pool = await create_pool(url)
        yield pool
        await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def platform_pool(infra, tmp_path):
    """A new database of its own with the platform's tables only (inbox, outbox), dropped afterwards."""
    async with fresh_database(infra["TICKETING_DATABASE_URL"], "platform") as url:
        await asyncio.to_thread(migrate, url, tmp_path)  # an empty folder: no service's migrations
        pool = await create_pool(url)
        try:
            yield pool
        finally:
            await pool.close()
