"""RegisterParticipant keeps the same limits as HTTP: a command beyond them gets a rejection event, never a place."""

from __future__ import annotations

import json
import uuid

import pytest
from atelier_schemas import Participant, RegisterParticipant
from registration.entrypoints.commands import on_register_participant
from support.links import TEST_LINKS
from support.programme import new_session


@pytest.mark.parametrize(
    ("name", "company", "field"),
    [
        ("x" * 100_000, None, "name"),
        ("Lena\nPeeters", None, "name"),
        ("Lena Peeters", "\x07" + "c" * 10, "company"),
        ("Lena Peeters", "c" * 201, "company"),
    ],
)
async def test_a_command_beyond_the_limits_is_rejected_with_an_event_and_takes_no_place(
    registration_pool, name, company, field
):
    session = await new_session(registration_pool)
    email = f"limits-{uuid.uuid4().hex[:10]}@example.be"
    command = RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=session["id"],
        participant=Participant(name=name, email=email, language="fr"),
        company=company,
    )
    async with registration_pool.acquire() as conn, conn.transaction():
        await on_register_participant(conn, None, command, links=TEST_LINKS)

    [event] = await registration_pool.fetch(
        "SELECT headers->>'ce_type' AS type, value FROM outbox WHERE key = $1", str(command.command_id)
    )
    rejection = json.loads(event["value"])
    assert event["type"] == "be.atelier.registration.rejected.v1" and rejection["reason"] == "invalid"
    assert rejection["detail"].startswith(f"{field}:") and len(event["value"]) < 1000  # the text is not echoed
    assert not await registration_pool.fetchval("SELECT count(*) FROM registrations WHERE email = $1", email)
