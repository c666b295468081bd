"""OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (exported over OTLP/HTTP).

The trace context of the request or event being handled is stored with each outbox row and
published as its `traceparent` header, so one registration is one trace: HTTP request, outbox
relay, each consumer, down to the SMTP send.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.util.types import Attributes

TRACEPARENT = "traceparent"
# FastAPI's own OpenTelemetry hook stays off: `install` traces through the instrumentor, and the hook
# would otherwise look the providers up in the environment on every request.
FASTAPI_NATIVE_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
_tracer = trace.get_tracer("atelier")


def enabled() -> bool:
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def install(app: FastAPI, broker: KafkaBroker, service: str) -> None:
    """Trace HTTP requests, Postgres queries and Kafka consumption of this service's process."""
    if not enabled():
        return
    # Imported here: a process that does not trace does not pay for loading them.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if not isinstance(trace.get_tracer_provider(), TracerProvider):  # once per process
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: service}), sampler=ParentBased(root=RequestsAndRecords())
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        AsyncPGInstrumentor().instrument()  # type: ignore[no-untyped-call]
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])
    broker.add_middleware(KafkaTelemetryMiddleware())


class RequestsAndRecords(Sampler):
    """A trace starts at an HTTP request or a consumed record, never at a background poll's query."""

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind in (trace.SpanKind.SERVER, trace.SpanKind.CONSUMER):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)
        return SamplingResult(Decision.DROP, None, trace_state)

    def get_description(self) -> str:
        return "RequestsAndRecords"


def current_traceparent() -> str | None:
    """The `traceparent` of the span now active, to be stored and handed on later."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def trace_headers(traceparent: str | None = None) -> dict[str, str]:
    """The `traceparent` header for an outbox row: the given one, else the active span's."""
    traceparent = traceparent or current_traceparent()
    return {TRACEPARENT: traceparent} if traceparent else {}


@contextlib.contextmanager
def span_under(name: str, traceparent: str | None, kind: trace.SpanKind = trace.SpanKind.INTERNAL) -> Iterator[None]:
    """A span continuing the trace a stored `traceparent` belongs to (a new trace without one)."""
    parent = propagate.extract({TRACEPARENT: traceparent} if traceparent else {})
    with _tracer.start_as_current_span(name, context=parent, kind=kind):
        yield


def relayed_headers(stored: str, topic: str) -> dict[str, str]:
    """An outbox row's headers (stored as JSON) as published: its `traceparent` now names the relay's span."""
    headers: dict[str, str] = json.loads(stored)
    if TRACEPARENT not in headers or not enabled():
        return headers
    with span_under(f"{topic} publish", headers[TRACEPARENT], trace.SpanKind.PRODUCER):
        return {**headers, **trace_headers()}
