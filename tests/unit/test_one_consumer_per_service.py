"""Each service reads all its topics through one subscriber (one Kafka consumer per process), while its
AsyncAPI document still shows each topic it reads, in its group; the broker may hold its fetches to
gather a trickle of records."""

from __future__ import annotations

import pytest
from atelier_platform.asyncapi import service_document
from atelier_platform.asyncapi_docs import documented_app
from atelier_platform.settings import CONSUMER_GATHER_MS
from atelier_platform.subscribe import GATHER_BYTES
from support.contracts import SERVICES


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_every_topic_it_documents_through_one_subscriber(service):
    app = documented_app(service)
    [subscriber] = app.state.broker.subscribers
    doc = service_document(app)
    operations = doc["operations"].values()
    received = {op["channel"]["$ref"].removeprefix("#/channels/") for op in operations if op["action"] == "receive"}
    assert len(received) >= 2
    assert {topic.name for topic in subscriber.topics} == received
    assert subscriber.group_id == service


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_lets_the_broker_hold_its_fetches_to_gather_records(service):
    [subscriber] = documented_app(service).state.broker.subscribers
    fetch = subscriber._connection_args  # the Kafka consumer's settings, as FastStream keeps them
    assert (fetch["fetch_max_wait_ms"], fetch["fetch_min_bytes"]) == (CONSUMER_GATHER_MS, GATHER_BYTES)
