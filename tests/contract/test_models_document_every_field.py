"""Every field of every command and event, nested ones included, says what it is and shows a value."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from pydantic import TypeAdapter
from support.contracts import models_and_their_parts

FIELDS = [(model, name) for model in models_and_their_parts() for name in model.model_fields]
IDS = [f"{model.__name__}.{name}" for model, name in FIELDS]


def test_nested_models_are_covered_too():
    names = {model.__name__ for model in models_and_their_parts()}
    assert {"Participant", "SessionInfo", "ScheduledSession", "Titles"} <= names


@pytest.mark.parametrize(("model", "name"), FIELDS, ids=IDS)
def test_a_field_has_a_description_and_an_example_other_than_null(model, name):
    field = model.model_fields[name]
    assert field.description and field.description.strip(), f"{model.__name__}.{name} has no description"
    assert [e for e in field.examples or () if e is not None], f"{model.__name__}.{name} has no telling example"


@pytest.mark.parametrize(("model", "name"), FIELDS, ids=IDS)
def test_every_example_of_a_field_is_a_valid_json_value_of_it(model, name):
    field = model.model_fields[name]
    adapter = TypeAdapter(Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation)
    for example in field.examples or ():
        adapter.validate_json(json.dumps(example))
