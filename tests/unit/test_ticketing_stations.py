"""The shipped station list, how names are searched, and how others' station files are read."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from ticketing.station_files import UnreadableStationFile, nmbs_id, read_station_file
from ticketing.stations import Station, packaged_stations, search_form

IRAIL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "irail-stations.csv"
IRAIL_HEADER = (
    "URI,name,alternative-fr,alternative-nl,alternative-de,alternative-en,taf-tap-code,telegraph-code,"
    "country-code,longitude,latitude,avg_stop_times,official_transfer_time\n"
)


def test_the_shipped_list_has_the_main_stations_once_each_with_both_names():
    stations = packaged_stations()
    ids = [s.id for s in stations]
    assert len(stations) >= 50
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 9 and i.isdigit() and i.startswith("0088") for i in ids)
    assert all(s.name_fr and s.name_nl for s in stations)
    by_id = {s.id: s for s in stations}
    assert by_id["008813003"] == Station("008813003", "Bruxelles-Central", "Brussel-Centraal")
    assert by_id["008814001"] == Station("008814001", "Bruxelles-Midi", "Brussel-Zuid")
    assert by_id["008821006"] == Station("008821006", "Anvers-Central", "Antwerpen-Centraal")
    assert by_id["008841004"] == Station("008841004", "Liège-Guillemins", "Luik-Guillemins")


@pytest.mark.skipif(not IRAIL.exists(), reason=f"the iRail reference file is not at {IRAIL}")
def test_every_shipped_station_is_a_station_in_belgium_of_the_public_reference_list():
    with IRAIL.open(newline="", encoding="utf-8") as file:
        reference = {row["URI"].rsplit("/", 1)[1]: row["country-code"] for row in csv.DictReader(file)}
    assert {s.id: reference.get(s.id) for s in packaged_stations()} == {s.id: "be" for s in packaged_stations()}


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Liège-Guillemins", "liege guillemins"),
        ("Bruxelles-Congrès", "bruxelles congres"),
        ("'s-Gravenbrakel", "s gravenbrakel"),
        ("  ANVERS   Central ", "anvers central"),
        ("Brussels Airport - Zaventem", "brussels airport zaventem"),
    ],
)
def test_names_are_searched_without_accents_case_or_punctuation(name, form):
    assert search_form(name) == form


def test_an_irail_file_gives_belgian_stations_with_each_language_its_own_name(tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text(
        IRAIL_HEADER
        + "http://irail.be/stations/NMBS/008814001,Brussel-Zuid/Bruxelles-Midi,Bruxelles-Midi,Brussel-Zuid,,,,,be,4,50,0,\n"
        + "http://irail.be/stations/NMBS/008895000,Aalst,Alost,,,,,,be,4,50,0,\n"
        + "http://irail.be/stations/NMBS/008841004,Liège-Guillemins,,Luik-Guillemins,,,,,be,5,50,0,\n"
        + "http://irail.be/stations/NMBS/008015345,Aachen Hbf,Aix-la-Chapelle Hbf,Aken Hbf,,,,,de,6,50,0,\n",
        encoding="utf-8",
    )
    assert read_station_file(path) == [
        Station("008814001", "Bruxelles-Midi", "Brussel-Zuid"),
        Station("008895000", "Alost", "Aalst"),
        Station("008841004", "Liège-Guillemins", "Luik-Guillemins"),
    ]


def test_a_gtfs_file_keeps_stations_not_their_platforms_and_reads_both_translation_formats(tmp_path):
    (tmp_path / "stops.txt").write_text(
        "stop_id,stop_name,location_type,parent_station\n"
        "8821006,Antwerpen-Centraal,,\n"
        "8821006_1,Antwerpen-Centraal,0,8821006\n"
        "8863008,Namur,1,\n"
        "8863008,Namur,1,\n"
        "8400058,Amsterdam Centraal,1,\n",
        encoding="utf-8",
    )
    (tmp_path / "translations.txt").write_text(
        "trans_id,lang,translation\nAntwerpen-Centraal,fr,Anvers-Central\nNamur,nl,Namen\n", encoding="utf-8"
    )
    assert read_station_file(tmp_path / "stops.txt") == [
        Station("008821006", "Anvers-Central", "Antwerpen-Centraal"),
        Station("008863008", "Namur", "Namen"),
    ]


@pytest.mark.parametrize(
    ("stop_id", "station_id"),
    [
        ("8814001", "008814001"),
        ("S8814001", "008814001"),
        ("008814001", "008814001"),
        ("8400058", None),
        ("8814001_4", None),
        ("", None),
    ],
)
def test_gtfs_stop_ids_become_nmbs_ids_only_in_belgium(stop_id, station_id):
    assert nmbs_id(stop_id) == station_id


def test_a_file_of_another_kind_or_with_broken_rows_is_refused(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("id,label\n1,x\n", encoding="utf-8")
    with pytest.raises(UnreadableStationFile):
        read_station_file(other)
    broken = tmp_path / "broken.csv"
    broken.write_text(IRAIL_HEADER + "http://irail.be/stations/NMBS/008895000,Aalst\n", encoding="utf-8")
    with pytest.raises(UnreadableStationFile, match="line 2"):
        read_station_file(broken)
