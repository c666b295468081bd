"""Token buckets per client, in this process: each replica counts on its own.

A client may make `burst` requests at once, then one more every 1/`per_second` seconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBuckets:
    def __init__(
        self,
        burst: int,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self._burst = float(burst)
        self._per_second = per_second
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, as of)

    def take(self, client: str) -> float:
        """Spend one token of `client`: 0 when allowed, otherwise the seconds until the next token."""
        now = self._clock()
        tokens, as_of = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - as_of) * self._per_second)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self._max_clients:
            # The longest-idle client goes; its bucket had refilled the most, so little is lost.
            self._buckets.popitem(last=False)
        return 0.0 if allowed else (1 - tokens) / self._per_second
