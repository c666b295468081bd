"""Walk one registration through the running dev stack and show what came out.

Creates a session, registers a participant who asks for a train voucher, then prints the
registration status, the voucher code from `ticketing.events`, the emails received, the address
of the participant pages and the local mailbox page.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from atelier_devkit.mail import wait_for_mail
from atelier_schemas.topics import TICKETING_EVENTS
from local_mailbox import write_mailbox

ENV_FILE = Path(__file__).resolve().parents[2] / ".local" / "stacks" / "dev" / "env"


def read_env() -> dict[str, str]:
    pairs = (
        line.removeprefix("export ").split("=", 1)
        for line in ENV_FILE.read_text().splitlines()
        if line.startswith("export ")
    )
    return {key: value for key, value in pairs}


async def voucher_code(bootstrap: str, registration_id: str, timeout: float = 30) -> str | None:
    consumer = AIOKafkaConsumer(
        TICKETING_EVENTS, bootstrap_servers=bootstrap, group_id=f"demo-{uuid.uuid4()}", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    if record.key == registration_id.encode():
                        return json.loads(record.value)["code"]
        return None
    finally:
        await consumer.stop()


async def main() -> int:
    env = read_env()
    base = env["REGISTRATION_URL"]
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    email = f"demo-{uuid.uuid4().hex[:8]}@example.be"
    admin = {"Authorization": f"Bearer {env['REGISTRATION_ADMIN_TOKEN']}"}
    async with httpx.AsyncClient(timeout=10) as client:
        workshop = await client.post(
            f"{base}/admin/workshops",
            headers=admin,
            json={
                "topic": "online_visibility",
                "title_fr": "Être visible en ligne",
                "title_nl": "Online zichtbaar worden",
                "title_en": "Getting visible online",
                "description_fr": "Les bases pour qu'on vous trouve.",
                "description_nl": "De basis om gevonden te worden.",
                "description_en": "The basics of being found.",
                "duration_minutes": 120,
            },
        )
        workshop.raise_for_status()
        session = await client.post(
            f"{base}/admin/sessions",
            headers=admin,
            json={
                "workshop_id": workshop.json()["id"],
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(hours=2)).isoformat(),
                "room": "Room 1",
                "language": "fr",
                "capacity": 20,
            },
        )
        session.raise_for_status()
        registration = await client.post(
            f"{base}/sessions/{session.json()['id']}/registrations",
            json={
                "name": "Camille Dubois",
                "email": email,
                "language": "fr",
                "wants_voucher": True,
                "origin_station_id": "008841004",
            },
        )
        registration.raise_for_status()
        registration_id = registration.json()["registration_id"]
        token = registration.json()["manage_token"]
        status = (await client.get(f"{base}/registrations/{registration_id}", params={"token": token})).json()["status"]

    print(f"registration {registration.json()['code']}: {status}")
    code = await voucher_code(env["KAFKA_BOOTSTRAP_SERVERS"], registration_id)
    print(f"train voucher: {code or 'NOT ISSUED within 30 s'}")
    mails = await wait_for_mail(env["SMTP_MAILDIR"], email, count=2)
    for mail in mails:
        print(f"email to {email}: {mail['Subject']}")
    print()
    print(f"participant pages: {env['WEB_URL']}/  (programme, register, then the link in the email)")
    print(f"local mailbox:     {write_mailbox('dev').as_uri()}  (refresh it with: make mailbox)")
    return 0 if code and len(mails) == 2 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
