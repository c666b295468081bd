"""Namespaces of the Postgres advisory locks the services take, one per kind of lock.

Always the two-key form, `pg_advisory_xact_lock(namespace, key)`: a key of one kind (a hashed
email, say) can then never collide with a key of another.
"""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

PERSON = 0x9E450  # registration: one participant's registrations, key hashtext(lower(email))
TICKETING_REGISTRATION = 0x71C7  # ticketing: the events of one registration, key hashtext(registration id)
TICKETING_SESSION = 0x5E55  # ticketing: the vouchers of one session, key hashtext(session id); before any registration
ERASURE = 0xE7A5E  # ticketing, notifications: a registration's events (shared) against its erasure (exclusive)


async def lock_all(conn: asyncpg.Connection, namespace: int, keys: Iterable[str], *, shared: bool = False) -> None:
    """Each key's lock (`hashtext(key)` in `namespace`) until the transaction ends, in one statement and
    one order, so that no two callers can each hold one the other waits for."""
    keys = list(keys)
    if not keys:
        return
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await conn.execute(
        f"SELECT {lock}($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k ORDER BY h) AS held",
        namespace,
        keys,
    )
