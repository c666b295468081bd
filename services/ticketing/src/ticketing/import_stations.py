"""`python -m ticketing import-stations [PATH]`: replace the station list.

PATH is an iRail stations CSV or a GTFS stops.txt; without it, the list that ships with the
service is loaded again. Vouchers already issued keep the names they were issued with.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import structlog

from . import station_store
from .station_files import read_station_file
from .stations import Station, packaged_stations

log = structlog.get_logger(__name__)


class RefusedStationList(ValueError):
    """A list that would leave the service unable to issue vouchers."""


def stations_from(path: Path | None) -> list[Station]:
    stations = packaged_stations() if path is None else read_station_file(path)
    if not stations:
        raise RefusedStationList(f"{path}: no station in Belgium found; the current list is kept")
    return stations


async def replace_stations(database_url: str, stations: list[Station]) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await station_store.replace_all(conn, stations)
    finally:
        await conn.close()


def import_stations(database_url: str, path: Path | None) -> None:
    """Replace the stations table with the stations of `path`, or with the shipped list."""
    stations = stations_from(path)
    asyncio.run(replace_stations(database_url, stations))
    log.info("stations imported", count=len(stations), source=str(path or "shipped list"))
