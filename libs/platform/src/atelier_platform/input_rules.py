"""What every HTTP app refuses before its routes see a request: an oversized body (413), and how it says 422.

A body is read whole into memory only up to the limit, so a 10 MB upload costs the process nothing;
a 422 names the fields and the rules they broke, never the input (which may be large, or personal).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A 422 lists at most this many problems: a list of ten thousand bad items must not make a large answer.
MAX_PROBLEMS = 20


class InputSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        validation_alias=AliasChoices("MAX_BODY_BYTES"),
        description="Request bodies larger than this get 413 before they are parsed",
    )


def install_input_rules(app: FastAPI, settings: InputSettings | None = None) -> None:
    settings = settings or InputSettings()
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_exception_handler(RequestValidationError, validation_problem)
    document_body_refusals(app, settings.max_body_bytes)


def document_body_refusals(app: FastAPI, limit: int) -> None:
    """Every operation taking a body lists the two answers it gets before validation: 400 and 413."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        responses = operation.setdefault("responses", {})
                        responses.setdefault("400", {"description": "The body is not JSON"})
                        responses.setdefault("413", {"description": f"The body is over {limit} bytes"})
            return document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to change the document


async def validation_problem(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 without `input` and `ctx` (both can repeat what was sent)."""
    assert isinstance(error, RequestValidationError)
    problems = [
        {"type": problem["type"], "loc": list(problem["loc"]), "msg": problem["msg"]}
        for problem in error.errors()[:MAX_PROBLEMS]
    ]
    return JSONResponse({"detail": problems}, status_code=422)


class BodyLimitMiddleware:
    """413 for a body over `limit` bytes, whether announced by Content-Length or streamed in chunks."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        announced = Headers(scope=scope).get("content-length")
        if announced is not None and (not announced.isdigit() or int(announced) > self.limit):
            await self._refuse(send)
            return
        # Read the body here, counting: the app then gets it from memory, never more than the limit.
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over {self.limit} bytes"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
