"""Calls to the registration HTTP API that many tests make."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx


def unique_email() -> str:
    return f"p-{uuid.uuid4().hex[:12]}@example.be"


async def create_session(client: httpx.AsyncClient, base: str, token: str, *, capacity: int = 10) -> str:
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    response = await client.post(
        f"{base}/admin/sessions",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "title": f"SEO basics {uuid.uuid4().hex[:6]}",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "room": "Room 2",
            "language": "fr",
            "capacity": capacity,
        },
    )
    response.raise_for_status()
    return response.json()["id"]


def registration_body(email: str, *, voucher: bool = True, language: str = "nl") -> dict:
    body = {"name": "Lena Peeters", "email": email, "language": language, "wants_voucher": voucher}
    if voucher:
        body["origin_station_id"] = "008821006"
    return body
