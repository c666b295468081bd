"""The platform's input rules on a small app: 413 over the body limit, however the body comes; a 422 without input."""

from __future__ import annotations

import httpx
from atelier_platform.input_rules import InputSettings, install_input_rules
from fastapi import FastAPI
from pydantic import BaseModel, Field

LIMIT = 2048


class Person(BaseModel):
    name: str = Field(max_length=10)


def small_app() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    seen: list[str] = []

    @app.post("/people")
    async def add(person: Person) -> dict[str, str]:
        seen.append(person.name)
        return {"name": person.name}

    install_input_rules(app, InputSettings(max_body_bytes=LIMIT))
    return app, seen


async def post(app: FastAPI, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.post("/people", **kwargs)


async def test_a_body_announced_over_the_limit_gets_413_and_reaches_no_route():
    app, seen = small_app()
    answer = await post(app, json={"name": "x" * LIMIT})
    assert answer.status_code == 413 and seen == []


async def test_a_streamed_body_over_the_limit_gets_413_and_reaches_no_route():
    app, seen = small_app()

    async def chunks():
        for _ in range(3):
            yield b" " * 1000

    answer = await post(app, content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and seen == []


async def test_a_body_within_the_limit_reaches_its_route_whole():
    app, seen = small_app()

    async def chunks():
        yield b'{"name": '
        yield b'"Lena"}'

    answer = await post(app, content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 200 and seen == ["Lena"]


async def test_a_422_lists_the_field_and_rule_but_not_the_input():
    app, _ = small_app()
    answer = await post(app, json={"name": "Zq" * 500})
    assert answer.status_code == 422
    problem = {"type": "string_too_long", "loc": ["body", "name"], "msg": "String should have at most 10 characters"}
    assert answer.json() == {"detail": [problem]}


def test_the_openapi_document_lists_400_and_413_for_operations_with_a_body():
    app, _ = small_app()
    responses = app.openapi()["paths"]["/people"]["post"]["responses"]
    assert {"400", "413", "422"} <= set(responses)
