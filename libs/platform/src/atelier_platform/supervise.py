"""Runs a process's long-lived background tasks and restarts any that fails.

A task that raises is logged with its traceback (logs.py keeps local variables out of it;
a database or broker outage gets a one-line warning instead), then restarted after a capped
exponential backoff. Restarts are counted per task name. A critical task that failed
`max_failures` times within `window` seconds makes the process unhealthy (`/healthz` answers
503), so the orchestrator restarts it.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from .errors import outage

log = structlog.get_logger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclass
class _Supervised:
    critical: bool
    forever: bool
    failures: collections.deque[float] = field(default_factory=collections.deque)
    task: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(
        self,
        *,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_failures: int = 5,
        window: float = 300.0,
    ) -> None:
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._max_failures = max_failures
        self._window = window
        self._jobs: dict[str, _Supervised] = {}
        self.restarts: collections.Counter[str] = collections.Counter()

    def start(self, name: str, job: Job, *, critical: bool = True, forever: bool = True) -> asyncio.Task[None]:
        """Run `job` as task `name` until cancelled.

        `forever`: the job should never return, so a return is restarted like a failure. Otherwise
        (a start-up step, say) the job is retried until it returns once.
        """
        if name in self._jobs:
            raise ValueError(f"a task named {name!r} is already supervised")
        supervised = self._jobs[name] = _Supervised(critical=critical, forever=forever)
        supervised.task = asyncio.create_task(self._keep_running(name, job, supervised), name=name)
        return supervised.task

    async def _keep_running(self, name: str, job: Job, supervised: _Supervised) -> None:
        consecutive = 0
        while True:
            started = time.monotonic()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if outage(exc):  # Kafka or Postgres away: expected now and then, said in one line
                    log.warning("background task waits for a server", task=name, error=repr(exc))
                else:
                    log.exception("background task failed, restarting", task=name, restarts=self.restarts[name])
            else:
                if not supervised.forever:
                    return
                log.error("background task ended, restarting", task=name, restarts=self.restarts[name])
            now = time.monotonic()
            supervised.failures.append(now)
            # A run that outlived the longest backoff was a recovery: start the backoff over.
            consecutive = 1 if now - started > self._max_backoff else consecutive + 1
            delay = min(self._max_backoff, self._first_backoff * 2 ** (consecutive - 1))
            await asyncio.sleep(delay * random.uniform(0.8, 1.0))
            self.restarts[name] += 1

    def failing(self) -> list[str]:
        """The critical tasks that failed too often lately, or are not running at all."""
        horizon = time.monotonic() - self._window
        failing = []
        for name, supervised in self._jobs.items():
            while supervised.failures and supervised.failures[0] < horizon:
                supervised.failures.popleft()
            dead = supervised.task is None or (supervised.task.done() and supervised.forever)
            if supervised.critical and (dead or len(supervised.failures) >= self._max_failures):
                failing.append(name)
        return failing

    async def stop(self) -> None:
        """Cancel every task and wait for them to end."""
        tasks = [s.task for s in self._jobs.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
