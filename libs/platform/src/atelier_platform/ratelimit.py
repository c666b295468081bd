"""Rate limits per client address (or any other key), in this process: each replica counts on its own.

A key may make `burst` requests at once, then one more every 1/`per_second` seconds. The client's
address is the peer's, unless the peer is a trusted proxy: then it is read from `X-Forwarded-For`,
right to left, skipping the trusted proxies (a client can write anything at the left of that header).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import HTTPException, Request, status

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


@functools.lru_cache(maxsize=8)  # read on every request from the same few settings: parse each once
def trusted_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 192.168.1.7` as networks; raises ValueError naming no more than the bad entry's position."""
    networks = []
    for position, entry in enumerate((part.strip() for part in text.split(",") if part.strip()), start=1):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"entry {position} is not an address or a network (CIDR)") from None
    return tuple(networks)


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, proxies: tuple[Network, ...]) -> str:
    """Who is asking: the peer, or, from a trusted proxy, the nearest untrusted hop of X-Forwarded-For."""
    peer = request.client.host if request.client else "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else peer


class RateLimit:
    """One limit (e.g. registrations per address) that answers 429 with Retry-After when spent.

    Called on the event loop only (async endpoints and dependencies), so the buckets need no lock."""

    def __init__(self, burst: int, per_minute: float, refusal: str) -> None:
        self._buckets = TokenBuckets(burst, per_minute / 60)
        self._refusal = refusal

    def spend(self, key: str) -> None:
        wait = self._buckets.take(key)
        if wait:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS, self._refusal, headers={"Retry-After": str(math.ceil(wait))}
            )
