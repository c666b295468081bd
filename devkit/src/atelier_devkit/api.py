"""Calls to the registration HTTP API that many tests make."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx


def unique_email() -> str:
    return f"p-{uuid.uuid4().hex[:12]}@example.be"


def admin(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_workshop(client: httpx.AsyncClient, base: str, token: str, *, topic: str = "seo") -> str:
    title = f"SEO basics {uuid.uuid4().hex[:6]}"
    response = await client.post(
        f"{base}/admin/workshops",
        headers=admin(token),
        json={
            "topic": topic,
            "title_fr": f"Référencement {title}",
            "title_nl": f"Zoekmachines {title}",
            "title_en": title,
            "description_fr": "...",
            "description_nl": "...",
            "description_en": "...",
            "duration_minutes": 120,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def create_session(
    client: httpx.AsyncClient,
    base: str,
    token: str,
    *,
    capacity: int = 10,
    starts: datetime | None = None,
    hours: float = 2,
    language: str = "fr",
    topic: str = "seo",
) -> str:
    """A new workshop and one session of it, a week from now unless told otherwise."""
    starts = starts or datetime.now(UTC).replace(microsecond=0) + timedelta(days=7, minutes=uuid.uuid4().int % 10_000)
    workshop_id = await create_workshop(client, base, token, topic=topic)
    response = await client.post(
        f"{base}/admin/sessions",
        headers=admin(token),
        json={
            "workshop_id": workshop_id,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=hours)).isoformat(),
            "room": "Room 2",
            "language": language,
            "capacity": capacity,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def registration_body(email: str, *, voucher: bool = True, language: str = "nl") -> dict:
    body = {"name": "Lena Peeters", "email": email, "language": language, "wants_voucher": voucher}
    if voucher:
        body["origin_station_id"] = "008821006"
    return body
