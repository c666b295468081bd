"""The AsyncAPI documents: generated from the services' apps, valid AsyncAPI 3.0, current, served."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from atelier_platform.asyncapi_docs import documented_app, stale_documents
from atelier_schemas import MESSAGE_TYPES, messages_on
from jsonschema import Draft7Validator
from support.contracts import ASYNCAPI_DOCS, SERVICES, load

# The AsyncAPI Initiative's JSON Schema of AsyncAPI 3.0.0 (npm @asyncapi/specs 6.11.1, Apache-2.0).
ASYNCAPI_3 = Draft7Validator(load(Path(__file__).parent / "asyncapi-3.0.0.schema.json"))
DOCUMENTS = [*SERVICES, "atelier"]


def operations(doc: dict) -> set[tuple[str, str, str]]:
    """(action, topic, operation name) of every operation."""
    topic = lambda op: op["channel"]["$ref"].removeprefix("#/channels/")  # noqa: E731
    return {(op["action"], topic(op), name) for name, op in doc["operations"].items()}


def test_the_committed_documents_are_those_the_apps_generate():
    stale = stale_documents(ASYNCAPI_DOCS, SERVICES)
    assert not stale, f"{stale} differ from what the services declare: run `make contracts` and commit the result"


def test_there_is_a_document_per_service_and_one_for_the_system():
    assert sorted(path.stem for path in ASYNCAPI_DOCS.glob("*.json")) == sorted(DOCUMENTS)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_document_is_valid_asyncapi_3(name):
    doc = load(ASYNCAPI_DOCS / f"{name}.json")
    assert doc["asyncapi"] == "3.0.0"
    assert [f"{list(e.absolute_path)}: {e.message}" for e in ASYNCAPI_3.iter_errors(doc)] == []


def test_a_validator_that_would_pass_anything_is_not_what_we_use():
    broken = {**load(ASYNCAPI_DOCS / "atelier.json"), "channels": {"x": {"address": 42}}}
    assert not ASYNCAPI_3.is_valid(broken)


def test_ticketing_reads_registrations_and_the_catalog_in_its_group_and_publishes_every_ticketing_type():
    doc = load(ASYNCAPI_DOCS / "ticketing.json")
    assert operations(doc) == {
        ("receive", "registration.events", "ticketing:registration.events"),
        ("receive", "catalog.events", "ticketing:catalog.events"),
        ("send", "ticketing.events", "ticketing.events"),
    }
    assert list(doc["channels"]["ticketing.events"]["messages"]) == [m.TYPE for m in messages_on("ticketing.events")]


def test_the_system_document_shows_each_topic_with_its_producer_and_consumer_groups():
    doc = load(ASYNCAPI_DOCS / "atelier.json")
    assert operations(doc) == {
        ("receive", "registration.commands", "registration:registration.commands"),
        ("receive", "ticketing.events", "registration:ticketing.events"),  # erasure confirmations
        ("receive", "notifications.events", "registration:notifications.events"),
        ("send", "catalog.events", "catalog.events"),
        ("receive", "catalog.events", "notifications:catalog.events"),
        ("receive", "catalog.events", "ticketing:catalog.events"),
        ("send", "registration.events", "registration.events"),
        ("receive", "registration.events", "ticketing:registration.events"),
        ("receive", "registration.events", "notifications:registration.events"),
        ("send", "ticketing.events", "ticketing.events"),
        ("receive", "ticketing.events", "notifications:ticketing.events"),
        ("send", "notifications.events", "notifications.events"),
    }


def test_each_message_is_one_cloudevents_type_with_its_headers_and_payload():
    doc = load(ASYNCAPI_DOCS / "atelier.json")
    for name, message in doc["components"]["messages"].items():
        model = MESSAGE_TYPES[name]
        assert message["headers"]["properties"]["ce_type"]["const"] == name
        assert message["correlationId"]["location"] == "$message.header#/ce_correlationid"
        payload = doc["components"]["schemas"][message["payload"]["$ref"].removeprefix("#/components/schemas/")]
        assert payload["x-cloudevents-type"] == name and payload["title"] == model.__name__


async def test_a_service_serves_its_document_and_a_page_that_renders_it():
    app = documented_app("notifications")  # its lifespan does not run: nothing to connect to
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notifications") as client:
        served = await client.get("/asyncapi.json")
        page = await client.get("/asyncapi")

    assert served.status_code == 200 and served.json() == load(ASYNCAPI_DOCS / "notifications.json")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "AsyncApiStandalone.render" in page.text
    assert "be.atelier.notifications.sent.v1" in page.text
