"""Load the station list that ships with the service into a new database."""

from ticketing.stations import packaged_stations
from yoyo import step


def load_shipped_stations(conn) -> None:
    conn.cursor().executemany(
        "INSERT INTO stations (id, name_fr, name_nl, search_fr, search_nl) VALUES (%s, %s, %s, %s, %s)",
        [station.row() for station in packaged_stations()],
    )


steps = [step(load_shipped_stations)]
