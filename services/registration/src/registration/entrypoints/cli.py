"""Organiser commands: `python -m registration seed`, `report`, and `proof-key` (for command producers)."""

from __future__ import annotations

import json
import sys

from atelier_platform import sealed
from atelier_platform.db import create_pool

from ..adapters.report import as_table, build_report
from ..config import Settings
from ..service_layer.seed import seed_programme


async def seed(args: list[str]) -> int:
    settings = Settings()
    pool = await create_pool(settings.database_url)
    try:
        async with pool.acquire() as conn, conn.transaction():
            created = await seed_programme(conn)
    finally:
        await pool.close()
    sys.stdout.write(
        f"seeded {created} sessions and coaching slots\n" if created else "the sample programme is already there\n"
    )
    return 0


async def report(args: list[str]) -> int:
    settings = Settings()
    pool = await create_pool(settings.database_url)
    try:
        result = await build_report(pool, settings.yearly_target)
    finally:
        await pool.close()
    sys.stdout.write((json.dumps(result, indent=2) if "--json" in args else as_table(result)) + "\n")
    return 0


async def proof_key(args: list[str]) -> int:
    """The public key producers of CancelRegistration seal the participant's manage token for."""
    key = sealed.private_key(Settings().command_proof_key.get_secret_value())
    sys.stdout.write(sealed.public_key_text(key) + "\n")
    return 0
