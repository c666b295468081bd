"""The example event of each type, as the Kafka record carrying it, is one a consumer reads."""

from __future__ import annotations

import json

import pytest
from atelier_schemas import MESSAGE_TYPES, CloudEvent, parse
from jsonschema import Draft202012Validator
from support.contracts import EXAMPLES, JSON_SCHEMAS, load

FILES = sorted(EXAMPLES.glob("*.json"))


def test_there_is_one_example_per_type_and_no_other():
    assert [path.stem for path in FILES] == sorted(MESSAGE_TYPES)


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_an_example_is_read_as_its_type_with_nothing_missing_or_extra(path):
    record = load(path)
    event = CloudEvent.from_kafka(record["headers"], json.dumps(record["value"]).encode())
    message = parse(event)

    assert event.type == path.stem and type(message) is MESSAGE_TYPES[path.stem]
    assert record["topic"] == message.TOPIC
    assert record["key"] == message.key() == event.subject
    assert message.model_dump(mode="json") == record["value"]


@pytest.mark.parametrize("path", FILES, ids=[path.stem for path in FILES])
def test_an_example_matches_the_committed_json_schema_of_its_type(path):
    schema = load(JSON_SCHEMAS / path.name)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert [error.message for error in validator.iter_errors(load(path)["value"])] == []


def test_the_json_schema_refuses_what_the_model_refuses():
    schema = load(JSON_SCHEMAS / "be.atelier.registration.waitlisted.v1.json")
    value = {**load(EXAMPLES / "be.atelier.registration.waitlisted.v1.json")["value"], "position": 0}
    assert not Draft202012Validator(schema).is_valid(value)
