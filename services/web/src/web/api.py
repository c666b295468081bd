"""The only way the pages reach the services: their public HTTP APIs (never their databases; see docs/adr/0005)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class Unavailable(Exception):
    """A service did not answer, or answered 5xx; `busy` when it shed load (503 + Retry-After)."""

    def __init__(self, busy: bool = False) -> None:
        super().__init__("busy" if busy else "unavailable")
        self.busy = busy


Json = dict[str, Any]  # an object as the APIs answer it


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # JSON: an object, or a list of them


class Services:
    def __init__(self, registration_url: str, ticketing_url: str) -> None:
        # No proxies from the environment: these are internal addresses.
        self._registration = httpx.AsyncClient(base_url=registration_url, timeout=10, trust_env=False)
        self._ticketing = httpx.AsyncClient(base_url=ticketing_url, timeout=10, trust_env=False)

    async def close(self) -> None:
        await self._registration.aclose()
        await self._ticketing.aclose()

    async def sessions(self, **filters: str) -> list[Json]:
        sessions: list[Json] = (await self._call(self._registration, "GET", "/sessions", params=filters)).body
        return sessions

    async def session(self, session_id: str) -> Json | None:
        answer = await self._call(self._registration, "GET", f"/sessions/{session_id}")
        return answer.body if answer.status == 200 else None

    async def register(self, session_id: str, body: Json, idempotency_key: str, client: str) -> Answer:
        """`client`: the participant's address, for registration's limit per address (it trusts this proxy)."""
        return await self._call(
            self._registration,
            "POST",
            f"/sessions/{session_id}/registrations",
            json=body,
            headers={"Idempotency-Key": idempotency_key, "X-Forwarded-For": client},
        )

    async def registration(self, registration_id: str, token: str) -> Json | None:
        path = f"/registrations/{registration_id}"
        answer = await self._call(self._registration, "GET", path, params={"token": token})
        return answer.body if answer.status == 200 else None

    async def cancel(self, registration_id: str, token: str, idempotency_key: str) -> Answer:
        return await self._call(
            self._registration,
            "POST",
            f"/registrations/{registration_id}/cancel",
            params={"token": token},
            headers={"Idempotency-Key": idempotency_key},
        )

    async def voucher(self, registration_id: str) -> Json | None:
        answer = await self._call(self._ticketing, "GET", f"/registrations/{registration_id}/voucher")
        return answer.body if answer.status == 200 else None

    async def stations(self, query: str) -> list[Json]:
        answer = await self._call(self._ticketing, "GET", "/stations", params={"q": query[:100], "limit": 10})
        stations: list[Json] = answer.body
        return stations

    async def _call(self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Answer:
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable() from exc
        if response.status_code >= 500:
            raise Unavailable(busy=response.status_code == 503)
        return Answer(response.status_code, response.json())
