"""Consumers ignore what they do not know; producers can only write what the contract has."""

from __future__ import annotations

import json

import pytest
from atelier_schemas import MESSAGE_TYPES, CloudEvent, Participant, RegistrationConfirmed, parse, to_cloud_event
from jsonschema import Draft202012Validator
from pydantic import ValidationError
from support.contracts import EXAMPLES, JSON_SCHEMAS, load

TYPES = sorted(MESSAGE_TYPES)


def example(event_type: str) -> dict:
    return load(EXAMPLES / f"{event_type}.json")["value"]


def with_unknown_fields(value: dict) -> dict:
    """`value` as a newer producer might send it: a field more at every level."""
    return {k: with_unknown_fields(v) if isinstance(v, dict) else v for k, v in value.items()} | {
        "added_in_a_later_minor_version": {"anything": [1, 2]}
    }


@pytest.mark.parametrize("event_type", TYPES)
def test_a_consumer_ignores_fields_it_does_not_know_at_any_depth(event_type):
    newer = CloudEvent(type=event_type, source="/newer", data=with_unknown_fields(example(event_type)))
    assert parse(newer) == MESSAGE_TYPES[event_type].model_validate(example(event_type))


def test_a_consumer_gets_nothing_to_handle_for_a_type_it_does_not_know():
    assert parse(CloudEvent(type="be.atelier.registration.teleported.v1", source="/newer", data={})) is None


def test_a_producer_cannot_build_a_message_with_a_field_the_contract_lacks():
    value = example(RegistrationConfirmed.TYPE)
    with pytest.raises(ValidationError, match="RegistrationConfirmed has no field manage_link"):
        RegistrationConfirmed(**value, manage_link="https://atelier.brussels/r/1")
    with pytest.raises(ValidationError, match="Participant has no field phone"):
        RegistrationConfirmed(**{**value, "participant": {**value["participant"], "phone": "+32 470 12 34 56"}})
    with pytest.raises(ValidationError, match="Participant has no field mail"):
        Participant(name="Lena Peeters", mail="lena@example.be", language="nl")


def test_a_producer_cannot_build_a_message_that_breaks_a_type():
    with pytest.raises(ValidationError, match="participant.email"):
        RegistrationConfirmed(
            **{
                **example(RegistrationConfirmed.TYPE),
                "participant": {"name": "Lena Peeters", "email": "not an address", "language": "nl"},
            }
        )


@pytest.mark.parametrize("event_type", TYPES)
def test_what_a_producer_publishes_matches_the_json_schema_other_teams_read(event_type):
    message = MESSAGE_TYPES[event_type](**example(event_type))
    _, value = to_cloud_event(message, source="/tests").to_kafka()
    schema = load(JSON_SCHEMAS / f"{event_type}.json")
    assert list(Draft202012Validator(schema).iter_errors(json.loads(value))) == []
