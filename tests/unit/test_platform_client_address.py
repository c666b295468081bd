"""Who is asking: X-Forwarded-For counts only when the peer is a trusted proxy, read right to left."""

from __future__ import annotations

import pytest
from atelier_platform.ratelimit import RateLimit, client_address, trusted_networks
from atelier_platform.settings import ServiceSettings
from fastapi import HTTPException
from pydantic import ValidationError
from starlette.requests import Request

PROXIES = trusted_networks("10.0.0.0/8, 192.168.1.7")


def request_from(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 40000), "headers": headers})


def test_a_client_that_is_no_trusted_proxy_is_its_own_address_whatever_it_forwards():
    assert client_address(request_from("203.0.113.9", "198.51.100.1"), PROXIES) == "203.0.113.9"
    assert client_address(request_from("127.0.0.1", "198.51.100.1"), ()) == "127.0.0.1"


def test_behind_trusted_proxies_the_client_is_the_nearest_untrusted_hop():
    # The client forged the leftmost entry; the proxies appended what they saw.
    forwarded = request_from("192.168.1.7", "1.2.3.4, 198.51.100.23, 10.1.2.3")
    assert client_address(forwarded, PROXIES) == "198.51.100.23"
    assert client_address(request_from("10.0.0.5", "198.51.100.1", "198.51.100.2"), PROXIES) == "198.51.100.2"


def test_a_trusted_proxy_without_the_header_is_the_client():
    assert client_address(request_from("10.0.0.5"), PROXIES) == "10.0.0.5"


def test_a_limit_answers_429_with_retry_after_once_spent():
    limit = RateLimit(burst=2, per_minute=6, refusal="too many")
    limit.spend("a")
    limit.spend("a")
    limit.spend("b")
    with pytest.raises(HTTPException) as refused:
        limit.spend("a")
    assert refused.value.status_code == 429 and refused.value.headers == {"Retry-After": "10"}


def test_a_proxy_setting_that_is_not_addresses_stops_the_start_without_echoing_it(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, secret-proxy-name")
    with pytest.raises(ValidationError) as refused:
        ServiceSettings()
    assert "entry 2" in str(refused.value) and "secret-proxy-name" not in str(refused.value)
