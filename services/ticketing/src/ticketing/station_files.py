"""Read station lists published by others: an iRail stations CSV or a GTFS stops.txt.

Only stations in Belgium are kept: an iRail row whose country-code is `be`; a GTFS stop whose
id is a Belgian UIC number (country 88). French and Dutch names come from the iRail
`alternative-fr`/`alternative-nl` columns, or from a GTFS translations.txt beside stops.txt;
a station without one uses its own name in that language.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from .stations import Station

IRAIL_COLUMNS = {"URI", "name", "alternative-fr", "alternative-nl", "country-code"}
GTFS_COLUMNS = {"stop_id", "stop_name"}


class UnreadableStationFile(ValueError):
    """Neither an iRail stations CSV nor a GTFS stops.txt."""


def read_station_file(path: Path) -> list[Station]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        columns = set(csv.DictReader(file).fieldnames or ())
    if IRAIL_COLUMNS <= columns:
        stations = list(_irail_stations(path))
    elif GTFS_COLUMNS <= columns:
        stations = list(_gtfs_stations(path))
    else:
        raise UnreadableStationFile(f"{path.name}: neither an iRail stations CSV nor a GTFS stops.txt")
    return _first_of_each_id(stations)


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as file:
        for line, row in enumerate(csv.DictReader(file), start=2):
            if None in row or None in row.values():
                raise UnreadableStationFile(f"{path.name}, line {line}: not as many fields as the header")
            yield row


def _irail_stations(path: Path) -> Iterator[Station]:
    for row in _rows(path):
        if row["country-code"].strip().lower() != "be":
            continue
        station_id = row["URI"].rstrip("/").rsplit("/", 1)[-1]
        # Brussels stations are named "Brussel-Centraal/Bruxelles-Central" (in no fixed order):
        # the alternative columns say which half is which language.
        name = row["name"].strip()
        yield Station(station_id, row["alternative-fr"].strip() or name, row["alternative-nl"].strip() or name)


def _gtfs_stations(path: Path) -> Iterator[Station]:
    translations = _gtfs_translations(path.parent / "translations.txt")
    for row in _rows(path):
        # Platforms, entrances and nodes belong to a station that has its own row.
        if row.get("location_type", "").strip() not in ("", "0", "1") or row.get("parent_station", "").strip():
            continue
        station_id = nmbs_id(row["stop_id"])
        if station_id is None:
            continue
        stop_id, name = row["stop_id"].strip(), row["stop_name"].strip()
        yield Station(
            station_id,
            translations.get((stop_id, "fr")) or translations.get((name, "fr")) or name,
            translations.get((stop_id, "nl")) or translations.get((name, "nl")) or name,
        )


def nmbs_id(stop_id: str) -> str | None:
    """'8814001', 'S8814001' or '008814001' -> '008814001'; None for a stop outside Belgium."""
    digits = stop_id.strip().lstrip("S")
    if digits.isdigit() and len(digits) == 7 and digits.startswith("88"):
        return "00" + digits
    if digits.isdigit() and len(digits) == 9 and digits.startswith("0088"):
        return digits
    return None


def _gtfs_translations(path: Path) -> dict[tuple[str, str], str]:
    """(stop id or stop name, language) -> translated stop name; both GTFS translation formats."""
    if not path.exists():
        return {}
    found = {}
    for row in _rows(path):
        if "table_name" in row:  # current format: per table and field, by record id or by value
            if row["table_name"] != "stops" or row["field_name"] != "stop_name":
                continue
            subject = row.get("record_id") or row.get("field_value", "")
        else:  # the original format: trans_id is the text being translated
            subject = row["trans_id"]
        found[(subject.strip(), (row.get("language") or row.get("lang", "")).strip().lower())] = row["translation"]
    return found


def _first_of_each_id(stations: list[Station]) -> list[Station]:
    by_id: dict[str, Station] = {}
    for station in stations:
        by_id.setdefault(station.id, station)
    return list(by_id.values())
