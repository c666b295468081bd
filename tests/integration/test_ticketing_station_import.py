"""`python -m ticketing import-stations` on real files, each run against a database of its own."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from atelier_platform.db import migrate
from ticketing import station_store
from ticketing.config import MIGRATIONS
from ticketing.import_stations import replace_stations, stations_from
from ticketing.stations import packaged_stations

ROOT = Path(__file__).resolve().parents[2]
IRAIL = ROOT.parent / "shared" / "data" / "irail-stations.csv"
needs_irail_file = pytest.mark.skipif(
    not IRAIL.exists(), reason=f"the iRail reference file is not at {IRAIL} (CI has it beside the repository)"
)


@pytest.fixture
async def scratch_db(infra):
    """A new ticketing database, migrated (so holding the shipped list): replacing its stations touches
    no other test."""
    parts = urlsplit(infra["TICKETING_DATABASE_URL"])
    name = f"ticketing_import_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra["TICKETING_DATABASE_URL"])
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = urlunsplit(parts._replace(path=f"/{name}"))
        migrate(url, MIGRATIONS)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def import_stations(database_url: str, *path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ticketing", "import-stations", *map(str, path)],
        env={**os.environ, "TICKETING_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def stations_in(database_url: str) -> dict[str, tuple[str, str]]:
    conn = await asyncpg.connect(database_url)
    try:
        return {row["id"]: (row["name_fr"], row["name_nl"]) for row in await conn.fetch("SELECT * FROM stations")}
    finally:
        await conn.close()


@needs_irail_file
async def test_the_irail_file_replaces_the_list_with_exactly_its_stations_in_belgium(scratch_db):
    with IRAIL.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    belgian = {row["URI"].rsplit("/", 1)[1]: row for row in rows if row["country-code"] == "be"}
    foreign = {row["URI"].rsplit("/", 1)[1] for row in rows if row["country-code"] != "be"}
    assert len(belgian) == sum(row["country-code"] == "be" for row in rows)  # no id twice
    assert (len(belgian), len(foreign)) == (579, 150)  # the file as its README describes it
    made_up = "008899999"
    conn = await asyncpg.connect(scratch_db)
    await conn.execute("INSERT INTO stations VALUES ($1, 'Nulle part', 'Nergens', 'nulle part', 'nergens')", made_up)
    await conn.close()

    result = import_stations(scratch_db, IRAIL)

    assert result.returncode == 0, result.stdout + result.stderr
    loaded = await stations_in(scratch_db)
    assert len(loaded) == len(belgian)
    assert set(loaded) == set(belgian)
    assert not set(loaded) & foreign and made_up not in loaded
    for station_id, row in belgian.items():  # a language without its own name uses the station's name
        assert loaded[station_id] == (row["alternative-fr"] or row["name"], row["alternative-nl"] or row["name"])
    assert not [names for names in loaded.values() if "/" in names[0] + names[1]]
    assert loaded["008813003"] == ("Bruxelles-Central", "Brussel-Centraal")
    assert loaded["008811130"] == ("Haren-Sud", "Haren-Zuid")  # named "Haren-Sud/Haren-Zuid": French first
    assert loaded["008814001"] == ("Bruxelles-Midi", "Brussel-Zuid")  # named "Brussel-Zuid/Bruxelles-Midi"
    assert loaded["008841004"] == ("Liège-Guillemins", "Luik-Guillemins")
    assert loaded["008895000"] == ("Alost", "Aalst")

    conn = await asyncpg.connect(scratch_db)
    try:
        assert [s.id for s in await station_store.search(conn, "LUIK guillemins", 5)] == ["008841004"]
        assert "008814001" in [s.id for s in await station_store.search(conn, "bruxelles midi", 5)]
    finally:
        await conn.close()


async def test_a_gtfs_stops_file_with_translations_loads_and_without_a_file_the_shipped_list_comes_back(
    scratch_db, tmp_path
):
    (tmp_path / "stops.txt").write_text(
        "stop_id,stop_name,stop_lat,stop_lon,location_type,parent_station\n"
        "S8814001,Brussel-Zuid,50.83,4.33,1,\n"
        "8814001_7,Brussel-Zuid,50.83,4.33,0,S8814001\n"
        "S8841004,Liège-Guillemins,50.62,5.56,1,\n"
        "S8400058,Amsterdam Centraal,52.37,4.90,1,\n",
        encoding="utf-8",
    )
    (tmp_path / "translations.txt").write_text(
        "table_name,field_name,language,translation,record_id,record_sub_id,field_value\n"
        "stops,stop_name,fr,Bruxelles-Midi,S8814001,,\n"
        "stops,stop_name,nl,Luik-Guillemins,,,Liège-Guillemins\n",
        encoding="utf-8",
    )

    await replace_stations(scratch_db, stations_from(tmp_path / "stops.txt"))
    assert await stations_in(scratch_db) == {
        "008814001": ("Bruxelles-Midi", "Brussel-Zuid"),
        "008841004": ("Liège-Guillemins", "Luik-Guillemins"),
    }

    await replace_stations(scratch_db, stations_from(None))
    assert len(await stations_in(scratch_db)) == len(packaged_stations())


async def test_a_file_without_a_station_in_belgium_is_refused_and_the_list_is_kept(scratch_db, tmp_path):
    foreign_only = tmp_path / "stations.csv"
    foreign_only.write_text(
        "URI,name,alternative-fr,alternative-nl,alternative-de,alternative-en,taf-tap-code,telegraph-code,"
        "country-code,longitude,latitude,avg_stop_times,official_transfer_time\n"
        "http://irail.be/stations/NMBS/008400058,Amsterdam Centraal,,,,,,,nl,4.90,52.37,0,\n",
        encoding="utf-8",
    )

    result = import_stations(scratch_db, foreign_only)

    assert result.returncode == 1
    assert "no station in Belgium" in result.stdout
    assert len(await stations_in(scratch_db)) == len(packaged_stations())
