"""CloudEvents 1.0 in the Kafka protocol binding's binary mode.

Attributes travel as `ce_*` headers, the JSON payload is the record value.
One implementation for every producer and consumer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
CORRELATION_HEADER = "ce_correlationid"
_REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_specversion")


def kafka_headers_schema(event_type: str) -> dict[str, Any]:
    """JSON Schema of the headers of a record carrying an event of `event_type` (for AsyncAPI)."""
    return {
        "type": "object",
        "required": list(_REQUIRED),
        "properties": {
            "ce_id": {"type": "string", "description": "Unique per event; a consumer ignores a second delivery of it."},
            "ce_source": {"type": "string", "description": "Who published it.", "examples": ["/atelier/registration"]},
            "ce_type": {"const": event_type, "description": "What happened (or what is asked), and its major version."},
            "ce_specversion": {"const": SPECVERSION, "description": "CloudEvents version."},
            "ce_time": {"type": "string", "format": "date-time", "description": "When it happened."},
            "ce_subject": {"type": "string", "description": "What it is about: the record key."},
            CORRELATION_HEADER: {
                "type": "string",
                "description": "Carried from the request that started it all through every event that follows.",
            },
            "content-type": {"const": CONTENT_TYPE, "description": "The value is a JSON object."},
        },
    }


class InvalidEnvelope(ValueError):
    """A record that is not a CloudEvent we can read; it can never succeed."""


@dataclass(frozen=True)
class CloudEvent:
    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    correlation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_kafka(self) -> tuple[dict[str, str], bytes]:
        """Headers and value of the Kafka record carrying this event."""
        headers = {
            "ce_id": self.id,
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_specversion": SPECVERSION,
            "ce_time": self.time.isoformat(),
            "content-type": CONTENT_TYPE,
        }
        if self.subject is not None:
            headers["ce_subject"] = self.subject
        if self.correlation_id is not None:
            headers[CORRELATION_HEADER] = self.correlation_id
        return headers, json.dumps(self.data, separators=(",", ":")).encode()

    @classmethod
    def from_kafka(
        cls, headers: Mapping[str, str | bytes] | Iterable[tuple[str, bytes]], value: bytes | None
    ) -> CloudEvent:
        """Read a record; raises InvalidEnvelope for anything malformed."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        attrs = {k: v.decode() if isinstance(v, bytes) else v for k, v in items}
        missing = [name for name in _REQUIRED if not attrs.get(name)]
        if missing:
            raise InvalidEnvelope(f"missing CloudEvents headers: {', '.join(missing)}")
        if attrs["ce_specversion"] != SPECVERSION:
            raise InvalidEnvelope(f"unsupported specversion {attrs['ce_specversion']!r}")
        try:
            data = json.loads(value or b"")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEnvelope(f"value is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidEnvelope("value is not a JSON object")
        try:
            time = datetime.fromisoformat(attrs["ce_time"]) if attrs.get("ce_time") else None
        except ValueError as exc:
            raise InvalidEnvelope(f"ce_time is not a timestamp: {exc}") from exc
        return cls(
            id=attrs["ce_id"],
            source=attrs["ce_source"],
            type=attrs["ce_type"],
            subject=attrs.get("ce_subject"),
            correlation_id=attrs.get(CORRELATION_HEADER),
            time=time or datetime.now(UTC),
            data=data,
        )
