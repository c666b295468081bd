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


async def lock_all(
    conn: asyncpg.Connection, namespace: int, keys: Iterable[str] = (), *, shared: Iterable[str] = ()
) -> None:
    """An exclusive lock on each of `keys` and a shared one on each of `shared` (a key in both: exclusive),
    `hashtext(key)` in `namespace`, until the transaction ends; in one statement and one order, so that
    no two callers can each hold one the other waits for."""
    modes = {key: False for key in shared} | {key: True for key in keys}
    if not modes:
        return
    await conn.execute(
        "SELECT CASE WHEN alone THEN pg_advisory_xact_lock($1, h) ELSE pg_advisory_xact_lock_shared($1, h) END"
        " FROM (SELECT hashtext(k) AS h, bool_or(alone) AS alone FROM unnest($2::text[], $3::bool[]) AS t(k, alone)"
        " GROUP BY h ORDER BY h) AS held",
        namespace,
        list(modes),
        list(modes.values()),
    )
