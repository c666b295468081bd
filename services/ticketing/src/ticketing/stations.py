"""Belgian passenger stations a voucher may start from, and how people search them."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Station:
    id: str  # NMBS/SNCB id, 9 digits: 0088 then the station's UIC number
    name_fr: str
    name_nl: str

    def row(self) -> tuple[str, str, str, str, str]:
        """Columns of the stations table, search forms included."""
        return self.id, self.name_fr, self.name_nl, search_form(self.name_fr), search_form(self.name_nl)


def search_form(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: 'Liège-Guillemins' -> 'liege guillemins'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def packaged_stations() -> list[Station]:
    """The list that ships with the service (data/stations.csv: id, name_fr, name_nl)."""
    text = resources.files(__package__).joinpath("data/stations.csv").read_text(encoding="utf-8")
    return [Station(row["id"], row["name_fr"], row["name_nl"]) for row in csv.DictReader(io.StringIO(text))]
