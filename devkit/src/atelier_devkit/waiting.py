"""Poll for an outcome instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

import httpx


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float, interval: float = 0.5) -> bool:
    """True as soon as `check()` is; False if it still is not after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(interval)


async def answers_consuming(client: httpx.AsyncClient, url: str) -> bool:
    """The service at `url` is ready and its Kafka subscribers are up (`/readyz` says kafka "ok")."""
    try:
        response = await client.get(f"{url}/readyz", timeout=2)
        return response.status_code == 200 and response.json().get("kafka") == "ok"
    except (httpx.HTTPError, ValueError):
        return False
