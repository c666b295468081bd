"""Registrations as careful clients send them while servers die: each request carries an
Idempotency-Key and is sent again, with the same key, until it gets a final answer.

Every attempt is recorded, so a test can tell a refused connection (the process was down) from a
request that was accepted and never answered (a hang).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from atelier_schemas.vocabulary import LANGUAGES

FINAL = {200, 201, 404, 409, 422}  # anything else (5xx, 503 + Retry-After, no answer) is tried again
ANSWER_TIMEOUT = 30.0  # seconds an accepted request may take before it counts as never answered


@dataclass
class Registration:
    session_id: str
    email: str
    key: str = field(default_factory=lambda: f"fault-{uuid.uuid4()}")
    status: int | None = None  # the final answer
    body: dict = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)  # one entry per try: the status, or what went wrong
    cancelled: bool = False

    @property
    def registration_id(self) -> str | None:
        return self.body.get("registration_id")

    @property
    def unanswered(self) -> int:
        return self.attempts.count("no answer")


def admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_sessions(base: str, token: str, count: int, capacity: int) -> list[str]:
    """`count` sessions of one new workshop, a week or more from now, none overlapping."""
    titles = {f"{part}_{lang}": "Fault suite" for part in ("title", "description") for lang in LANGUAGES}
    async with aiohttp.ClientSession(base, headers=admin(token)) as client:
        async with client.post("/admin/workshops", json={"topic": "seo", **titles, "duration_minutes": 60}) as r:
            assert r.status == 201, await r.text()
            workshop_id = (await r.json())["id"]
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7, hours=uuid.uuid4().int % 5000 * 3)
        ids = []
        for n in range(count):
            starts = first + timedelta(hours=2 * n)
            body = {
                "workshop_id": workshop_id,
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=1)).isoformat(),
                "room": "Room 3",
                "language": "en",
                "capacity": capacity,
            }
            async with client.post("/admin/sessions", json=body) as r:
                assert r.status == 201, await r.text()
                ids.append((await r.json())["id"])
    return ids


def registrations_for(session_ids: list[str], count: int) -> list[Registration]:
    return [
        Registration(session_ids[n % len(session_ids)], f"f-{uuid.uuid4().hex[:14]}@example.be") for n in range(count)
    ]


async def _until_final(
    client: aiohttp.ClientSession, url: str, body: dict | None, key: str, attempts: list[str], give_up: float
) -> tuple[int | None, dict]:
    pause = 0.2
    while time.monotonic() < give_up:
        try:
            async with client.post(url, json=body, headers={"Idempotency-Key": key}) as response:
                attempts.append(str(response.status))
                if response.status in FINAL:
                    return response.status, await response.json()
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.isdigit():
                    pause = max(pause, float(retry_after))
        except TimeoutError:
            attempts.append("no answer")
        except aiohttp.ClientError as error:
            attempts.append(type(error).__name__)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
    return None, {}


async def register_all(
    base: str,
    registrations: list[Registration],
    *,
    concurrency: int = 40,
    give_up_after: float = 240,
    cancel_every: int = 0,
    per_second: float | None = None,
    wants_voucher: bool = True,
) -> None:
    """Send every registration until it has a final answer; with `cancel_every` n, every n-th one
    that was accepted is then cancelled by its participant (again retried with a key of its own).
    `per_second` spreads the requests over time, so faults meet traffic at every stage."""
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=ANSWER_TIMEOUT)
    give_up = time.monotonic() + give_up_after
    started = time.monotonic()

    async def one(n: int, registration: Registration, client: aiohttp.ClientSession) -> None:
        if per_second:
            await asyncio.sleep(max(0.0, started + n / per_second - time.monotonic()))
        body = {"name": "Fault Suite", "email": registration.email, "language": "en", "wants_voucher": wants_voucher}
        if wants_voucher:
            body["origin_station_id"] = "008821006"
        async with gate:
            registration.status, registration.body = await _until_final(
                client,
                f"/sessions/{registration.session_id}/registrations",
                body,
                registration.key,
                registration.attempts,
                give_up,
            )
            if cancel_every and n % cancel_every == 0 and registration.status == 201:
                status, _ = await _until_final(
                    client,
                    f"/registrations/{registration.registration_id}/cancel?token={registration.body['manage_token']}",
                    None,
                    registration.key + "-cancel",
                    registration.attempts,
                    give_up,
                )
                registration.cancelled = status == 200

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:
        await asyncio.gather(*(one(n, r, client) for n, r in enumerate(registrations)))


async def answered(registrations: list[Registration], count: int) -> None:
    """Wait until at least `count` registrations have their final answer."""
    while sum(r.status is not None for r in registrations) < count:
        await asyncio.sleep(0.05)
