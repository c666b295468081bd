"""The CloudEvents Kafka binding every service uses."""

from __future__ import annotations

import json

import pytest
from atelier_schemas import CloudEvent, InvalidEnvelope


def event() -> CloudEvent:
    return CloudEvent(
        type="be.atelier.test.happened.v1", source="/tests", subject="k-1", correlation_id="c-1", data={"answer": 42}
    )


def test_an_event_survives_the_trip_through_kafka_headers_and_value():
    original = event()
    headers, value = original.to_kafka()
    assert headers["ce_specversion"] == "1.0" and headers["content-type"] == "application/json"
    assert CloudEvent.from_kafka([(k, v.encode()) for k, v in headers.items()], value) == original


@pytest.mark.parametrize("missing", ["ce_id", "ce_source", "ce_type", "ce_specversion"])
def test_a_record_without_a_required_attribute_is_refused_by_name(missing):
    headers, value = event().to_kafka()
    del headers[missing]
    with pytest.raises(InvalidEnvelope, match=missing):
        CloudEvent.from_kafka(headers, value)


@pytest.mark.parametrize("value", [b"{not json", b"\xff\xfe", b"[1, 2]", b""])
def test_a_value_that_is_not_a_json_object_is_refused(value):
    headers, _ = event().to_kafka()
    with pytest.raises(InvalidEnvelope):
        CloudEvent.from_kafka(headers, value)


def test_unknown_payload_fields_are_kept_for_the_model_to_ignore():
    headers, _ = event().to_kafka()
    parsed = CloudEvent.from_kafka(headers, json.dumps({"answer": 42, "new": 1}).encode())
    assert parsed.data == {"answer": 42, "new": 1}
