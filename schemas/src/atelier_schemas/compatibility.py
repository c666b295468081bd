"""The compatibility guard: within a version, a type may only gain optional fields.

It compares the JSON Schema each type had when it was last released (a snapshot committed
with the package) with the one the models give now. Removing, renaming or retyping a field,
or changing whether it is required, breaks someone who already reads or writes that type:
such a change is published as a new type (`.v2`) instead, next to the old one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import MESSAGE_TYPES
from .json_schemas import json_schema, write_files

Schema = dict[str, Any]

# Words for people, not rules for data: changing them breaks no one.
ANNOTATIONS = frozenset(
    {"title", "description", "examples", "default", "$schema", "x-cloudevents-type", "x-kafka-topic"}
)
# Keys whose value maps names to schemas.
NAMED_SCHEMAS = ("properties", "patternProperties")
# Keys holding schemas that are compared one by one, so a change inside names its field.
COMBINATIONS = ("anyOf", "oneOf", "allOf")


class BreakingChanges(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def next_version(event_type: str) -> str:
    """be.atelier.x.happened.v1 → be.atelier.x.happened.v2"""
    name, _, version = event_type.rpartition(".v")
    return f"{name}.v{int(version) + 1}" if name and version.isdigit() else f"{event_type}.v2"


def breaking_changes(event_type: str, released: Schema, current: Schema) -> list[str]:
    """What in `current` breaks the users of `released`, one sentence per field."""
    changes = _Comparison(released, current).fields("", released, current)
    advice = f"publish the change as a new type {next_version(event_type)} instead"
    return [f"{event_type}: {change}; {advice}" for change in changes]


def check(released_folder: Path) -> list[str]:
    """Every breaking change between the released snapshot and the models."""
    problems: list[str] = []
    for path in sorted(released_folder.glob("*.json")):
        event_type = path.name.removesuffix(".json")
        model = MESSAGE_TYPES.get(event_type)
        if model is None:
            problems.append(f"{event_type}: was released but no model has this type any more; keep it")
            continue
        problems += breaking_changes(event_type, json.loads(path.read_text()), json_schema(model))
    return problems


def release(released_folder: Path) -> list[str]:
    """Make the models' schemas the released ones; refused while any change would break users."""
    problems = check(released_folder)
    if problems:
        raise BreakingChanges(problems)
    return write_files(released_folder)


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self._roots = {"old": old_root, "new": new_root}

    def fields(self, path: str, old: Schema, new: Schema) -> list[str]:
        prefix = f"{path}." if path else ""
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        added = [name for name in new_fields if name not in old_fields]
        problems = []
        for name, old_field in old_fields.items():
            where = f"'{prefix}{name}'"
            if name not in new_fields:
                twins = [a for a in added if self._shape("new", new_fields[a]) == self._shape("old", old_field)]
                hint = f" (renamed to '{prefix}{twins[0]}'?)" if twins else ""
                problems.append(f"field {where} was removed or renamed{hint}")
                continue
            if name in new_required and name not in old_required:
                problems.append(f"field {where} became required")
            if name in old_required and name not in new_required:
                problems.append(f"field {where} became optional, yet readers of the released schema expect it")
            problems += self.value(f"{prefix}{name}", old_field, new_fields[name])
        problems += [
            f"new field '{prefix}{name}' is required; a new field must be optional"
            for name in added
            if name in new_required
        ]
        return problems

    def value(self, path: str, old: Schema, new: Schema) -> list[str]:
        old, new = self._resolve("old", old), self._resolve("new", new)
        problems: list[str] = []
        compared: set[str] = set()
        if "properties" in old and "properties" in new:
            problems += self.fields(path, old, new)
            compared |= {"properties", "required"}
        for key in COMBINATIONS:
            if key in old and key in new and len(old[key]) == len(new[key]):
                for old_part, new_part in zip(old[key], new[key], strict=True):
                    problems += self.value(path, old_part, new_part)
                compared.add(key)
        if "items" in old and "items" in new:
            problems += self.value(f"{path}[]", old["items"], new["items"])
            compared.add("items")
        old_rest = self._shape("old", {k: v for k, v in old.items() if k not in compared})
        new_rest = self._shape("new", {k: v for k, v in new.items() if k not in compared})
        if old_rest != new_rest:
            problems.append(f"field '{path}' changed type from {_brief(old_rest)} to {_brief(new_rest)}")
        return problems

    def _resolve(self, side: str, schema: Schema) -> Schema:
        """Follow a local `$ref` (pydantic puts nested models under `$defs`)."""
        while "$ref" in schema:
            target: Any = self._roots[side]
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def _shape(self, side: str, schema: Any) -> Any:
        """The schema as rules only: references followed, annotations and ordering dropped."""
        if isinstance(schema, list):
            return [self._shape(side, item) for item in schema]
        if not isinstance(schema, dict):
            return schema
        shape: dict[str, Any] = {}
        for key, value in self._resolve(side, schema).items():
            if key in NAMED_SCHEMAS:  # field names, never annotations, even a field called "title"
                shape[key] = {name: self._shape(side, v) for name, v in value.items()}
            elif key not in ANNOTATIONS and key != "$defs":  # $defs are reached through $ref
                shape[key] = self._shape(side, value)
        for unordered in ("enum", "required"):
            if unordered in shape:
                shape[unordered] = sorted(shape[unordered], key=json.dumps)
        return shape


def _brief(shape: Any, limit: int = 100) -> str:
    text = json.dumps(shape, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"
