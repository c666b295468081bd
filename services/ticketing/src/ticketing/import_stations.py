"""`python -m ticketing import-stations [PATH]`: replace the station list.

PATH is an iRail stations CSV or a GTFS stops.txt; without it, the list that ships with the
service is loaded again. Vouchers already issued keep the names they were issued with.
"""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg
import structlog
from atelier_platform.serve import database_url

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


async def import_stations_command(args: list[str]) -> int:
    """Replace the stations table with the stations of the file named in `args`, or with the shipped list.
    An unreadable or refused file leaves the current list and exits 1."""
    path = Path(args[0]) if args else None
    try:
        stations = stations_from(path)
        await replace_stations(database_url("ticketing"), stations)
    except (OSError, ValueError) as exc:
        log.error("stations not imported", error=str(exc))
        return 1
    sys.stdout.write(f"imported {len(stations)} stations from {path or 'the shipped list'}\n")
    return 0
