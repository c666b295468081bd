"""The JSON Schema files other teams read are exactly what the models say."""

from __future__ import annotations

from atelier_schemas import MESSAGE_TYPES
from atelier_schemas.json_schemas import stale_files, write_files
from support.contracts import JSON_SCHEMAS, load


def test_the_committed_json_schemas_are_those_of_the_models():
    stale = stale_files(JSON_SCHEMAS)
    assert not stale, f"{stale} differ from the models: run `make contracts` and commit the result"


def test_there_is_one_file_per_type_and_version_naming_its_type_and_topic():
    for event_type, model in MESSAGE_TYPES.items():
        schema = load(JSON_SCHEMAS / f"{event_type}.json")
        assert (schema["x-cloudevents-type"], schema["x-kafka-topic"]) == (event_type, model.TOPIC)


def test_a_changed_model_makes_its_file_stale_until_regenerated(tmp_path):
    write_files(tmp_path)
    assert stale_files(tmp_path) == []
    edited = tmp_path / "be.atelier.ticketing.issued.v1.json"
    edited.write_text(edited.read_text().replace("Voucher code", "Code"))
    (tmp_path / "be.atelier.ticketing.gone.v1.json").write_text("{}")
    assert stale_files(tmp_path) == ["be.atelier.ticketing.gone.v1.json", "be.atelier.ticketing.issued.v1.json"]
    write_files(tmp_path)
    assert stale_files(tmp_path) == []
