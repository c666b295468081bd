"""What every service's HTTP app has: health probes, the correlation id, its AsyncAPI document."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics, telemetry
from .asyncapi import install_asyncapi
from .logs import correlation_id
from .runtime import Runtime

CORRELATION_HEADER = "X-Correlation-ID"
_bearer = HTTPBearer(auto_error=False)  # module level: FastAPI resolves the annotations below by name


def bearer_token(role: str, setting: str) -> Callable[..., Awaitable[None]]:
    """A dependency that lets a request through only with the bearer token in `settings.<setting>`.

    401 without a token, 403 with a wrong one; compared in constant time.
    """

    async def require(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> None:
        if credentials is None:
            raise HTTPException(401, f"{role} token required", headers={"WWW-Authenticate": "Bearer"})
        expected = getattr(request.app.state.settings, setting).get_secret_value()
        if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
            raise HTTPException(403, f"{role} token not valid")

    return require


def install_common(app: FastAPI, service: str) -> None:
    """Call after `app.state.broker` (for the metrics and traces) and `app.state.contract` (for the AsyncAPI
    document) are set."""
    add_correlation_id(app)
    add_health_routes(app)
    install_asyncapi(app)
    metrics.install(app, app.state.broker, service)
    telemetry.install(app, app.state.broker, service)


def add_correlation_id(app: FastAPI) -> None:
    """Take the caller's X-Correlation-ID (or make one); it rides on every event that follows."""
    app.add_middleware(CorrelationIdMiddleware)


class CorrelationIdMiddleware:
    """Plain ASGI rather than `@app.middleware("http")`, which costs a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = (Headers(scope=scope).get(CORRELATION_HEADER) or str(uuid.uuid4()))[:100]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[CORRELATION_HEADER] = cid
            await send(message)

        token = correlation_id.set(cid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)


def add_health_routes(app: FastAPI) -> None:
    """/healthz: critical background tasks alive (else 503, and the orchestrator restarts us).
    /readyz: that, and the database answers. Kafka not yet reached ("connecting") or lost
    ("degraded") stays 200: the outbox keeps what is accepted until the broker is back."""

    @app.get("/healthz", tags=["health"])
    async def healthz(response: Response) -> dict[str, object]:
        failing = app.state.runtime.supervisor.failing()
        response.status_code = 503 if failing else 200
        return {"status": "failing", "tasks": failing} if failing else {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(response: Response) -> dict[str, object]:
        runtime: Runtime = app.state.runtime
        checks: dict[str, object] = {"database": "ok", "kafka": "ok"}
        try:
            async with asyncio.timeout(2):
                await runtime.pool.fetchval("SELECT 1")
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if not runtime.kafka_connected.is_set():
            checks["kafka"] = "connecting"
        elif not await runtime.broker.ping(timeout=2):
            checks["kafka"] = "degraded"
        if failing := runtime.supervisor.failing():
            checks["tasks"] = failing
        ready = checks["database"] == "ok" and not failing
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", **checks}
