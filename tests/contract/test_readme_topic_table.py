"""The topic table other teams read lists every topic and every type it may carry."""

from __future__ import annotations

from atelier_schemas import messages_on
from atelier_schemas.topics import ALL, dead_letter
from support.contracts import SCHEMAS


def table_rows() -> dict[str, str]:
    rows = [line for line in (SCHEMAS / "README.md").read_text().splitlines() if line.startswith("| `")]
    return {row.split("`")[1]: row for row in rows}


def test_every_topic_has_a_row_naming_its_dead_letter_topic():
    rows = table_rows()
    assert sorted(rows) == sorted(ALL)
    for topic, row in rows.items():
        assert f"`{dead_letter(topic)}`" in row


def test_every_type_is_in_the_row_of_its_topic():
    for topic, row in table_rows().items():
        for model in messages_on(topic):
            short = "." + ".".join(model.TYPE.rsplit(".", 2)[1:])  # `.waitlisted.v1` after the first
            assert f"`{model.TYPE}`" in row or f"`{short}`" in row, f"{model.TYPE} is missing from the {topic} row"
