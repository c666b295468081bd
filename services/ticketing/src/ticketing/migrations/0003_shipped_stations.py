"""Load the station list that ships with the service into a new database.

A migration is a snapshot: it imports no application code (that code may change after it ran), so it
reads the shipped file itself and keeps its own copy of the search-form rule as it stood then.
"""

import csv
import re
import unicodedata
from pathlib import Path
from typing import Any

from yoyo import step

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "stations.csv"


def search_form(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def load_shipped_stations(conn: Any) -> None:  # a DB-API connection (psycopg)
    with SHIPPED.open(newline="", encoding="utf-8") as file:
        rows = [
            (row["id"], row["name_fr"], row["name_nl"], search_form(row["name_fr"]), search_form(row["name_nl"]))
            for row in csv.DictReader(file)
        ]
    conn.cursor().executemany(
        "INSERT INTO stations (id, name_fr, name_nl, search_fr, search_nl) VALUES (%s, %s, %s, %s, %s)", rows
    )


steps = [step(load_shipped_stations)]
