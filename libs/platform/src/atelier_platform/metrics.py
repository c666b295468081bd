"""Prometheus metrics at /metrics: Kafka and HTTP traffic, and the figures ops act on.

Counters and histograms live in this process (in files shared by the workers when a service runs
several: `share_between_workers`). The outbox backlog and the consumer lag are read at scrape time
from Postgres and Kafka, so every worker and every pod reports the same, whole figures.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from atelier_schemas.topics import dead_letter
from fastapi import FastAPI, Response
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus.provider import BatchKafkaMetricsSettingsProvider, settings_provider_factory
from faststream.prometheus import ConsumeAttrs, PrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .kafka_client import client_args

log = structlog.get_logger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
OUTBOX_TIMEOUT = 1.0  # seconds; a scrape must not hang on a busy database
KAFKA_TIMEOUT = 3.0

HTTP_REQUESTS = Histogram(
    "atelier_http_request_duration_seconds",
    "HTTP requests by method, route template and status code, with their duration",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DEAD_LETTERS = Counter(
    "atelier_dead_letters_total", "Records this service sent to a dead-letter topic", ["topic", "group"]
)
OUTBOX_QUARANTINED = Counter(
    "atelier_outbox_quarantined_total", "Outbox rows set aside because Kafka will never accept them"
)
TASK_RESTARTS = Counter("atelier_task_restarts_total", "Background tasks restarted after a failure", ["task"])
EMAILS = Counter(
    "atelier_emails_total",
    "SMTP delivery attempts by outcome: sent, retried (the message's own transient failure), failed (given up),"
    " server_out (the server was out: the message keeps its place, sending pauses)",
    ["outcome"],
)
ROWS_PURGED = Counter(
    "atelier_retention_rows_total",
    "Rows deleted or anonymised by a retention purge (outbox, inbox, and each service's own)",
    ["purge"],
)
VOUCHERS = Counter("atelier_vouchers_total", "Train vouchers by what happened to them: issued, voided", ["outcome"])
INTAKE_QUEUE = Gauge(
    "atelier_intake_queue_depth",
    "Registration requests waiting for their batch to be decided",
    multiprocess_mode="livesum",
)

_watched_groups: dict[str, set[str]] = {}  # consumer group -> its topics


def share_between_workers() -> None:
    """Before starting several worker processes: their metrics go to files that any worker's
    /metrics adds up (prometheus-client's multiprocess mode). Workers must be started afterwards."""
    if not os.environ.get(MULTIPROCESS_DIR):
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="atelier-metrics-")


def watch_consumer_lag(group: str, topic: str) -> None:
    """Report the lag of `group` on `topic` (and the size of its dead-letter topic)."""
    _watched_groups.setdefault(group, set()).add(topic)


class _BatchesOf(BatchKafkaMetricsSettingsProvider):
    """Labels a batch with the topics its subscriber reads: a batch may mix them, and FastStream labels
    it with its first record's topic alone."""

    def __init__(self, subscription: str) -> None:
        super().__init__()
        self._subscription = subscription

    def get_consume_attrs_from_message(self, msg: Any) -> ConsumeAttrs:
        return {**super().get_consume_attrs_from_message(msg), "destination_name": self._subscription}


def install(app: FastAPI, broker: KafkaBroker, service: str) -> None:
    """HTTP histograms, FastStream's consumed/published counts and latencies, and the /metrics endpoint
    with the outbox, lag and readiness figures."""
    # A service reads all its topics through one subscriber (see subscribe); the base type has no topics.
    topics = [topic.name for sub in broker.subscribers for topic in sub.topics]  # type: ignore[attr-defined]
    batches = _BatchesOf(",".join(topics))

    def provider(msg: Any) -> Any:
        return batches if isinstance(msg, Sequence) else settings_provider_factory(msg)

    broker.add_middleware(PrometheusMiddleware(settings_provider_factory=provider, registry=REGISTRY, app_name=service))

    async def figures() -> list[Metric]:
        outbox, consumers = await asyncio.gather(
            outbox_figures(app.state.runtime.pool), consumer_figures(app.state.settings.kafka_bootstrap_servers)
        )
        ready = GaugeMetricFamily("atelier_ready", "1 when the check passed at this scrape", labels=["check"])
        ready.add_metric(["database"], float(bool(outbox)))
        ready.add_metric(["kafka"], float(bool(consumers)))
        ready.add_metric(["tasks"], float(not app.state.runtime.supervisor.failing()))
        return [*outbox, *consumers, ready]

    serve_metrics(app, figures)


async def _no_figures() -> list[Metric]:
    return []


def serve_metrics(app: FastAPI, figures: Callable[[], Awaitable[list[Metric]]] = _no_figures) -> None:
    """HTTP histograms and /metrics: this process's counters, then `figures`, read at each scrape.

    Alone, for an app with neither database nor Kafka (the participant pages).
    """
    app.add_middleware(HttpMetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = generate_latest(_process_registry()) + generate_latest(_Figures(await figures()))
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class HttpMetricsMiddleware:
    """Times each request, labelled with its route template (`/vouchers/{code}`), never the raw path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")  # set by the router when a route matched
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)


def _process_registry() -> CollectorRegistry:
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # registers itself
    return registry


class _Figures:
    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        yield from self._families


async def outbox_figures(pool: asyncpg.Pool) -> list[Metric]:
    """Rows waiting for the relay, and how long the oldest has waited (0 when none)."""
    try:
        async with asyncio.timeout(OUTBOX_TIMEOUT):
            row = await pool.fetchrow(
                "SELECT count(*) AS unsent, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS age"
                " FROM outbox WHERE sent_at IS NULL AND quarantined_at IS NULL"
            )
    except Exception as exc:  # no figure rather than a failed scrape; /readyz reports the database
        log.warning("outbox figures unavailable", error=type(exc).__name__)
        return []
    return [
        GaugeMetricFamily("atelier_outbox_unsent_rows", "Outbox rows not yet published to Kafka", row["unsent"]),
        GaugeMetricFamily(
            "atelier_outbox_oldest_unsent_age_seconds", "Age of the oldest unpublished outbox row", float(row["age"])
        ),
    ]


async def consumer_figures(bootstrap_servers: str) -> list[Metric]:
    """Per partition: end offset minus the group's committed offset; and the records in each dead-letter topic."""
    if not _watched_groups:
        return []
    lag = GaugeMetricFamily(
        "atelier_consumer_lag",
        "Records of a partition not yet handled by the consumer group",
        labels=["group", "topic", "partition"],
    )
    letters = GaugeMetricFamily(
        "atelier_dead_letter_topic_records", "Records kept in a dead-letter topic", labels=["topic"]
    )
    connection = client_args()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **connection)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, **connection)
    try:
        async with asyncio.timeout(KAFKA_TIMEOUT):
            await admin.start()
            await consumer.start()
            topics = {t for ts in _watched_groups.values() for t in ts}
            dlqs = {dead_letter(t) for t in topics}
            described = await admin.describe_topics(sorted(topics | dlqs))
            partitions = [TopicPartition(d["topic"], p["partition"]) for d in described for p in d["partitions"]]
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
            for group, group_topics in sorted(_watched_groups.items()):
                committed = await admin.list_consumer_group_offsets(group)
                for tp in sorted(p for p in partitions if p.topic in group_topics):
                    done = committed.get(tp)
                    position = done.offset if done is not None and done.offset >= 0 else starts[tp]
                    lag.add_metric([group, tp.topic, str(tp.partition)], max(0, ends[tp] - position))
            for topic in sorted(dlqs):
                kept = sum(ends[tp] - starts[tp] for tp in partitions if tp.topic == topic)
                letters.add_metric([topic], kept)
    except Exception as exc:  # Kafka down or slow: the scrape still answers, without these figures
        log.warning("consumer figures unavailable", error=type(exc).__name__)
        return []
    finally:
        await consumer.stop()
        await admin.close()
    return [lag, letters]
