"""JSON Schema of every command and event type: one file per CloudEvents type.

The files are generated from the models and committed, so teams that do not use Python
read the same contract; `python -m atelier_schemas json-schema <folder>` rewrites them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import MESSAGE_TYPES
from .base import Message

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(model: type[Message]) -> dict[str, Any]:
    """What a consumer accepts as the payload of `model`'s type."""
    return {"$schema": DIALECT, **model.model_json_schema()}


def file_name(event_type: str) -> str:
    return f"{event_type}.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def rendered_files() -> dict[str, str]:
    """File name → content, for every type this package knows."""
    return {file_name(t): render(json_schema(model)) for t, model in sorted(MESSAGE_TYPES.items())}


def stale_files(folder: Path) -> list[str]:
    """Files in `folder` that are missing, differ from the models, or belong to no type."""
    expected = rendered_files()
    present = {path.name for path in folder.glob("*.json")}
    differing = [name for name, text in expected.items() if name not in present or (folder / name).read_text() != text]
    return sorted(differing + list(present - expected.keys()))


def write_files(folder: Path) -> list[str]:
    """Bring `folder` up to date with the models; returns the names of the files it changed."""
    changed = stale_files(folder)
    folder.mkdir(parents=True, exist_ok=True)
    expected = rendered_files()
    for name in changed:
        if name in expected:
            (folder / name).write_text(expected[name])
        else:
            (folder / name).unlink()
    return changed
