"""The public registration door limits each client address and each email domain; X-Forwarded-For counts
only from a trusted proxy. A registration process of its own, with small limits (the test stack lifts them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from atelier_devkit.api import create_session, registration_body
from support.processes import running
from support.ticketing import client_from
from ticketing.codes import new_voucher_code

SMALL_LIMITS = {
    "REGISTRATION_ADDRESS_BURST": "3",
    "REGISTRATION_ADDRESS_PER_MINUTE": "1",
    "REGISTRATION_DOMAIN_BURST": "4",
    "REGISTRATION_DOMAIN_PER_MINUTE": "1",
    "TRUSTED_PROXIES": "127.0.0.1",
}


@pytest.fixture(scope="module")
def limited(infra, tmp_path_factory) -> Iterator[str]:
    logs = tmp_path_factory.mktemp("limited-registration")
    with running(("registration",), infra, logs, {"registration": SMALL_LIMITS}) as urls:
        yield urls["registration"]


@pytest.fixture(scope="module")
async def session_url(limited, infra) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        session_id = await create_session(client, limited, infra["REGISTRATION_ADMIN_TOKEN"], capacity=200)
    return f"{limited}/sessions/{session_id}/registrations"


def email_at(domain: str | None = None) -> str:
    return f"p-{uuid.uuid4().hex[:10]}@{domain or f'd{uuid.uuid4().hex[:8]}.example.be'}"


def forwarded() -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}


async def test_one_address_gets_its_burst_then_429_whatever_it_forges_in_x_forwarded_for(session_url):
    async with client_from("127.0.0.41") as greedy, client_from("127.0.0.42") as other:
        answers = [
            await greedy.post(session_url, json=registration_body(email_at(), voucher=False), headers=forwarded())
            for _ in range(4)
        ]
        elsewhere = await other.post(session_url, json=registration_body(email_at(), voucher=False))

    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1 and "address" in answers[-1].json()["detail"]
    assert elsewhere.status_code == 201


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(session_url):
    client = {"X-Forwarded-For": "203.0.113.7, 198.51.100.44"}  # the proxy appended the nearest address
    async with client_from("127.0.0.1") as proxy:
        many = [
            await proxy.post(session_url, json=registration_body(email_at(), voucher=False), headers=forwarded())
            for _ in range(5)
        ]
        one = [
            await proxy.post(session_url, json=registration_body(email_at(), voucher=False), headers=client)
            for _ in range(4)
        ]

    assert [a.status_code for a in many] == [201] * 5
    assert [a.status_code for a in one] == [201, 201, 201, 429]


async def test_one_email_domain_gets_its_burst_then_429_from_any_address(session_url):
    domain = f"burst-{uuid.uuid4().hex[:8]}.example.be"
    async with client_from("127.0.0.1") as proxy:
        answers = [
            await proxy.post(session_url, json=registration_body(email_at(domain), voucher=False), headers=forwarded())
            for _ in range(5)
        ]
        other_domain = await proxy.post(
            session_url, json=registration_body(email_at(), voucher=False), headers=forwarded()
        )

    assert [a.status_code for a in answers] == [201, 201, 201, 201, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1 and "domain" in answers[-1].json()["detail"]
    assert other_domain.status_code == 201


async def test_ticketing_counts_look_ups_per_forwarded_client_behind_a_trusted_proxy(services):
    unknown = f"{services['ticketing']}/vouchers/{new_voucher_code()}"
    async with client_from("127.0.0.1") as proxy, client_from("127.0.0.43") as forger:
        first = {"X-Forwarded-For": "198.51.100.201"}
        spent = [(await proxy.get(unknown, headers=first)).status_code for _ in range(31)]
        second = await proxy.get(unknown, headers={"X-Forwarded-For": "198.51.100.202"})
        forged = [(await forger.get(unknown, headers=forwarded())).status_code for _ in range(31)]

    assert spent[-1] == 429 and 429 not in spent[:30]
    assert second.status_code != 429
    assert forged[-1] == 429  # an untrusted peer is limited by its own address, whatever it forwards
