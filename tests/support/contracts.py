"""Where the committed contract files live, and every model they describe."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from atelier_schemas import MESSAGE_TYPES
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
JSON_SCHEMAS = SCHEMAS / "jsonschema"
RELEASED = SCHEMAS / "released"
EXAMPLES = SCHEMAS / "examples"
ASYNCAPI_DOCS = ROOT / "docs" / "asyncapi"
# The services with topics; the participant pages (web) have none.
SERVICES = sorted(
    p.name for p in (ROOT / "services").iterdir() if (p / "src" / p.name / "app.py").exists() and p.name != "web"
)


def models_and_their_parts() -> list[type[BaseModel]]:
    """Every command and event model, and every model nested in one, each once."""
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in found:
            return
        found.append(model)
        for field in model.model_fields.values():
            for annotation in (field.annotation, *typing.get_args(field.annotation)):
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    visit(annotation)

    for model in MESSAGE_TYPES.values():
        visit(model)
    return found


def load(path: Path) -> Any:
    return json.loads(path.read_text())
