"""A service's FastAPI app, wired the same way for every service around what the service states.

A service names its topics, its consumer group and handlers, its routes and its background work;
this builds the broker, subscribes, opens the runtime in the lifespan, makes the EventConsumer
once the pool exists, and installs health, metrics, traces, docs and the input rules.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker

from .asyncapi import declare_publishers, declare_subscribers
from .consumer import AroundBatch, EventConsumer, Handlers, nothing_around
from .docs_assets import serve_docs_offline
from .http import install_common
from .input_rules import install_input_rules
from .retention import Purge
from .runtime import Runtime, Worker, create_broker, open_runtime
from .settings import ServiceSettings
from .subscribe import subscribe
from .telemetry import FASTAPI_NATIVE_OFF


@dataclass(frozen=True)
class Consumes:
    """The topics a service consumes, its consumer group, and its handlers: built in the lifespan, after the
    service's `before_start`, since they may need what it made. `after_commit` is called after each handled
    record commits; by default it wakes the outbox relay, which then publishes what the handler wrote.
    `around_batch` wraps the handlers of each batch, in its transaction."""

    topics: Sequence[str]
    group: str
    handlers: Callable[[], Handlers]
    after_commit: Callable[[], None] | None = None
    around_batch: AroundBatch = nothing_around


def create_service_app(
    name: str,
    settings: ServiceSettings,
    *,
    version: str,
    publishes: Sequence[str],
    consumes: Consumes,
    routers: Sequence[APIRouter],
    workers: Sequence[Worker] = (),
    housekeeping: Sequence[Worker] = (),
    purges: Sequence[Purge] = (),
    before_start: Callable[[Runtime], None] = lambda runtime: None,
) -> FastAPI:
    """No I/O here (the AsyncAPI documents are made from apps built on unchecked settings): the pool,
    producers and broker open in the lifespan. `workers`, `housekeeping` and `purges` as in `open_runtime`."""
    broker = create_broker(settings.kafka_bootstrap_servers)
    contract = KafkaBroker(settings.kafka_bootstrap_servers)  # never started: the AsyncAPI document's topics
    declare_publishers(contract, *publishes)
    declare_subscribers(contract, consumes.group, *consumes.topics)
    app = FastAPI(title=f"Atelier {name}", version=version, telemetry=FASTAPI_NATIVE_OFF)
    consumers: list[EventConsumer] = []  # the one EventConsumer, once the runtime is open

    subscribe(
        broker,
        consumes.topics,
        consumes.group,
        lambda: consumers[0],
        settings.kafka_consumer_batch_max,
        gather_ms=settings.kafka_consumer_gather_ms,
    )

    def start(runtime: Runtime) -> None:
        before_start(runtime)
        consumer = EventConsumer(
            group=consumes.group,
            pool=runtime.pool,
            producer=runtime.producer,
            handlers=consumes.handlers(),
            after_commit=consumes.after_commit or runtime.relay.wake,
            around_batch=consumes.around_batch,
        )
        consumers[:] = [consumer]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(
            database_url=settings.database_url,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            broker=broker,
            workers=workers,
            housekeeping=housekeeping,
            purges=purges,
            before_start=start,
        ) as runtime:
            app.state.runtime = runtime  # read by /readyz, /metrics and the routes
            yield

    app.router.lifespan_context = lifespan
    app.state.settings = settings  # read by the bearer-token checks
    app.state.broker = broker  # read by the metrics and traces
    app.state.contract = contract  # read by the AsyncAPI page
    for router in routers:
        app.include_router(router)
    install_common(app, name)
    install_input_rules(app)
    serve_docs_offline(app)
    return app
