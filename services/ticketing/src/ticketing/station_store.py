"""The stations table: search by name, replace the whole list (a voucher's station: vouchers.known_before_issuing)."""

from __future__ import annotations

import asyncpg

from .stations import Station, search_form

COLUMNS = ("id", "name_fr", "name_nl", "search_fr", "search_nl")


async def search(conn: asyncpg.Connection | asyncpg.Pool, query: str, limit: int) -> list[Station]:
    """Stations whose French or Dutch name holds every word of `query`, accents and case aside;
    names that start with its first word come first."""
    words = search_form(query).split()  # letters and digits only: no LIKE wildcard slips in
    rows = await conn.fetch(
        "SELECT id, name_fr, name_nl FROM stations"
        " WHERE search_fr || ' ' || search_nl LIKE ALL($1::text[])"
        " ORDER BY (search_fr LIKE $2 OR search_nl LIKE $2) DESC, search_fr, id LIMIT $3",
        [f"%{word}%" for word in words],
        f"{words[0]}%" if words else "%",
        limit,
    )
    return [Station(**row) for row in rows]


async def replace_all(conn: asyncpg.Connection, stations: list[Station]) -> None:
    """Call inside a transaction: readers see the old list until it commits."""
    await conn.execute("DELETE FROM stations")
    await conn.copy_records_to_table("stations", records=[s.row() for s in stations], columns=COLUMNS)
