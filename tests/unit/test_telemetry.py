"""Traces start at requests and records, and follow an event through the outbox (SDK in-memory exporter)."""

from __future__ import annotations

import json

import pytest
from atelier_platform import telemetry
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

tracer = trace.get_tracer("tests")


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ParentBased(root=telemetry.RequestsAndRecords()))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture(autouse=True)
def tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")


def test_a_background_query_starts_no_trace(exporter):
    exporter.clear()
    with tracer.start_as_current_span("SELECT outbox", kind=trace.SpanKind.CLIENT):
        pass
    assert exporter.get_finished_spans() == ()


def test_an_outbox_row_carries_its_requests_trace_and_the_relay_continues_it(exporter):
    exporter.clear()
    with tracer.start_as_current_span("POST /sessions/{session_id}/registrations", kind=trace.SpanKind.SERVER):
        stored = json.dumps({"ce_id": "1", **telemetry.trace_headers()})
    assert telemetry.current_traceparent() is None  # outside the request, nothing to hand on

    published = telemetry.relayed_headers(stored, "registration.events")

    request, relay = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time)
    assert relay.name == "registration.events publish" and relay.kind == trace.SpanKind.PRODUCER
    assert relay.context.trace_id == request.context.trace_id and relay.parent.span_id == request.context.span_id
    assert published["ce_id"] == "1"
    assert published["traceparent"].startswith(f"00-{relay.context.trace_id:032x}-{relay.context.span_id:016x}-")


def test_a_stored_traceparent_is_continued_by_a_later_span(exporter):
    exporter.clear()
    with tracer.start_as_current_span("registration.events process", kind=trace.SpanKind.CONSUMER) as consumer:
        stored = telemetry.current_traceparent()
    with telemetry.span_under("smtp send", stored):
        pass
    (send,) = [s for s in exporter.get_finished_spans() if s.name == "smtp send"]
    assert send.context.trace_id == consumer.get_span_context().trace_id
    assert send.parent.span_id == consumer.get_span_context().span_id
