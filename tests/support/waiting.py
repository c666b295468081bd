"""Poll for an outcome instead of sleeping a guessed time."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable


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
