"""What every event and command model, and every part of one, shares."""

from __future__ import annotations

import functools
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

# Validation context of a model built by keyword, which only a producer does.
_PRODUCING = {"producing": True}


class Contract(BaseModel):
    """Tolerant when read, strict when built.

    Consumers read with `model_validate` (or `parse`): fields they do not know are ignored, so
    a producer may add optional fields without breaking them. Producers build by keyword: a
    field the model does not have is a mistake there, and fails instead of vanishing.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    def __init__(self, /, **data: Any) -> None:
        self.__pydantic_validator__.validate_python(data, self_instance=self, context=_PRODUCING)

    # Marks this as pydantic's own __init__, so that model_validate (a consumer) does not call it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_fields_when_producing(cls, data: Any, info: ValidationInfo) -> Any:
        if info.context is _PRODUCING and isinstance(data, dict):
            unknown = sorted(data.keys() - _field_names(cls))
            if unknown:
                raise ValueError(f"{cls.__name__} has no field {', '.join(unknown)}")
        return data


@functools.cache
def _field_names(model: type[BaseModel]) -> frozenset[str]:
    # Looked up for every model a producer builds: pydantic's `model_fields` took a fifth of a build.
    return frozenset(model.model_fields)


def _name_type_and_topic(schema: dict[str, Any], model: type[BaseModel]) -> None:
    # The JSON Schema and the AsyncAPI payload then say which CloudEvents type and topic they are for.
    if (event_type := getattr(model, "TYPE", None)) is not None:
        schema["x-cloudevents-type"] = event_type
        schema["x-kafka-topic"] = getattr(model, "TOPIC", None)


class Message(Contract):
    """An event or command payload."""

    model_config = ConfigDict(json_schema_extra=_name_type_and_topic)

    TYPE: ClassVar[str]
    """The CloudEvents `type`: reverse domain, event name, major version."""
    TOPIC: ClassVar[str]

    def key(self) -> str:
        """The record key: all messages of one key stay in order."""
        raise NotImplementedError


def example_of(model: type[BaseModel]) -> dict[str, Any]:
    """An instance of `model` as JSON, made of the first example of each field.

    Nested models use it for the example of the field that holds them, so every field,
    nested or not, documents itself with a value of its own shape.
    """
    return {name: field.examples[0] for name, field in model.model_fields.items() if field.examples}
