"""AsyncAPI 3.0 documents generated from the services' FastStream brokers.

Generated from a broker that is never started, made for the document: `declare_subscribers`
says which topics a service reads in its group (it reads them all through one consumer, see
`subscribe`), and `declare_publishers` which topics it publishes (through the outbox relay, with a
raw producer). FastStream writes one channel per endpoint and one message per handler; the
document is then reshaped the way other teams read it: one channel per topic, one message
per CloudEvents type, with the `ce_*` headers of the Kafka binding.
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable
from importlib.metadata import version
from typing import Any

from atelier_schemas import messages_on
from atelier_schemas.envelope import CONTENT_TYPE, CORRELATION_HEADER, kafka_headers_schema
from atelier_schemas.topics import dead_letter
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI, get_asyncapi_html
from pydantic import SkipValidation

Document = dict[str, Any]


def payload_of(topic: str) -> Any:
    """The union of every model that may travel on `topic`; raw bytes for a topic of no contract."""
    models = messages_on(topic)
    return functools.reduce(operator.or_, models) if models else bytes


def describe_topic(topic: str) -> str:
    return (
        "CloudEvents 1.0 in Kafka's binary mode, keyed so that all events of one key stay in order."
        f" Records a consumer can never handle go to `{dead_letter(topic)}`."
    )


def declare_subscribers(broker: KafkaBroker, group: str, *topics: str) -> None:
    """Document that `group` reads each of `topics`, every type each may carry."""
    for topic in topics:

        async def reads(message: Any) -> None:  # never called: the broker is never started
            raise NotImplementedError

        reads.__annotations__["message"] = SkipValidation[payload_of(topic)]  # type: ignore[misc]  # a type made at run time
        reads.__name__ = "on_" + topic.replace(".", "_").removesuffix("s")
        broker.subscriber(
            topic, group_id=group, batch=True, title=f"{group}:{topic}", description=describe_topic(topic)
        )(reads)


def declare_publishers(broker: KafkaBroker, *topics: str) -> None:
    """Document that this service publishes every type of each of `topics` (through its outbox)."""
    for topic in topics:
        broker.publisher(topic, title=topic, description=describe_topic(topic), schema=payload_of(topic))


def service_document(app: FastAPI) -> Document:
    """The topics one service reads and writes, from the broker its `create_app` wired."""
    description = (
        f"The Kafka topics of {app.title}. Payloads are the models of atelier-schemas"
        f" {version('atelier-schemas')}; attributes travel as `ce_*` headers."
    )
    return document(app.title, app.version, description, [app.state.contract])


def system_document(apps: Iterable[FastAPI]) -> Document:
    """Every topic of the system: who publishes it, who consumes it, in which group."""
    description = "Every topic of Atelier: its producer, its consumer groups, and the CloudEvents types it carries."
    schemas_version = version("atelier-schemas")
    return document("Atelier", schemas_version, description, [app.state.contract for app in apps])


def document(title: str, app_version: str, description: str, brokers: list[KafkaBroker]) -> Document:
    generated = AsyncAPI(*brokers, title=title, version=app_version, description=description, schema_version="3.0.0")
    doc = _one_channel_per_topic(_one_message_per_type(generated.to_specification().to_jsonable()))
    return _sorted(doc)


def install_asyncapi(app: FastAPI) -> None:
    """/asyncapi.json and a page that renders it at /asyncapi (its script comes from a CDN)."""

    @app.get("/asyncapi.json", tags=["contracts"], summary="AsyncAPI 3.0 document of this service's topics")
    async def asyncapi_json() -> Document:
        return service_document(app)

    @app.get("/asyncapi", tags=["contracts"], response_class=HTMLResponse, summary="The same, as a page")
    async def asyncapi_page() -> str:
        return get_asyncapi_html(_Rendered(service_document(app)), try_it_out_path=None)


def render(doc: Document) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


class _Rendered:
    """A finished document as FastStream's page template reads a specification."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    @property
    def title(self) -> str:
        return str(self.doc["info"]["title"])

    def to_json(self) -> str:
        return json.dumps(self.doc)

    def to_jsonable(self) -> Document:
        return self.doc

    def to_yaml(self) -> str:
        return self.to_json()  # JSON is YAML


def _one_message_per_type(doc: Document) -> Document:
    """Replace each generated message (a union of models) by one message per CloudEvents type.

    A message whose payload is not made of our models (a subscriber not made by `subscribe`,
    say) stays as FastStream wrote it.
    """
    schemas, messages = doc["components"]["schemas"], doc["components"]["messages"]
    for channel_key, channel in doc["channels"].items():
        kept: dict[str, Any] = {}
        for name, generated_ref in channel["messages"].items():
            payload_ref = messages[_target(generated_ref)]["payload"]
            models = _models_of(payload_ref, schemas)
            if models is None:
                kept[name] = generated_ref
                continue
            del messages[_target(generated_ref)]
            if models != [payload_ref]:
                del schemas[_target(payload_ref)]  # FastStream's union of them, referenced by nothing now
            for model_ref in models:
                event_type = schemas[_target(model_ref)]["x-cloudevents-type"]
                messages[event_type] = _message(event_type, schemas[_target(model_ref)], model_ref)
                kept[event_type] = {"$ref": f"#/components/messages/{event_type}"}
        channel["messages"] = kept
        for operation in _operations_on(doc, channel_key):
            operation["messages"] = [{"$ref": f"#/channels/{channel_key}/messages/{name}"} for name in kept]
    return doc


def _one_channel_per_topic(doc: Document) -> Document:
    """FastStream keys a channel by endpoint; readers look for the topic. Merge them by address."""
    topic_of = {key: channel["address"] for key, channel in doc["channels"].items()}
    channels: dict[str, Any] = {}
    for channel in doc["channels"].values():
        merged = channels.setdefault(channel["address"], {**channel, "messages": {}})
        merged["messages"].update(channel["messages"])
    for operation in doc["operations"].values():
        topic = topic_of[_target(operation["channel"])]
        operation["channel"] = {"$ref": f"#/channels/{topic}"}
        operation["messages"] = [{"$ref": f"#/channels/{topic}/messages/{_target(m)}"} for m in operation["messages"]]
    doc["channels"] = channels
    return doc


def _sorted(doc: Document) -> Document:
    """Names in order, whatever order the broker registered its endpoints in: a stable file."""
    for section in (doc, doc["components"]):
        for key in ("channels", "operations", "messages", "schemas"):
            if key in section:
                section[key] = dict(sorted(section[key].items()))
    return doc


def _models_of(payload_ref: dict[str, str], schemas: dict[str, Any]) -> list[dict[str, str]] | None:
    """References to the models of a payload (its `anyOf`, or itself); None unless all are message types."""
    payload = schemas[_target(payload_ref)]
    refs = payload.get("anyOf", [payload_ref])
    typed = all("$ref" in ref and "x-cloudevents-type" in schemas.get(_target(ref), {}) for ref in refs)
    return refs if typed else None


def _message(event_type: str, model_schema: dict[str, Any], payload_ref: dict[str, str]) -> dict[str, Any]:
    return {
        "name": event_type,
        "title": model_schema["title"],
        "summary": model_schema["description"],
        "contentType": CONTENT_TYPE,
        "headers": kafka_headers_schema(event_type),
        "correlationId": {
            "description": "The correlation id of the request that started it all.",
            "location": f"$message.header#/{CORRELATION_HEADER}",
        },
        "payload": payload_ref,
    }


def _operations_on(doc: Document, channel_key: str) -> list[dict[str, Any]]:
    return [op for op in doc["operations"].values() if op["channel"]["$ref"] == f"#/channels/{channel_key}"]


def _target(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]
