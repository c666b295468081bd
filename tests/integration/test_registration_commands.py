"""Commands keep the same limits as HTTP, and a cancellation proves the participant's right; a command refused
gets a rejection event, never a place or a cancellation."""

from __future__ import annotations

import json
import uuid

import pytest
from atelier_devkit.api import unique_email
from atelier_platform import sealed
from atelier_schemas import CancelRegistration, Participant, RegisterParticipant, RegisterParticipantV2
from atelier_schemas.commands import CANCEL_PROOF_PURPOSE, NewParticipant
from atelier_schemas.registration import MANAGE_LINK_PURPOSE
from pydantic import ValidationError
from registration.entrypoints.commands import on_cancel_registration, on_register_participant
from registration.service_layer import registrations
from support.links import TEST_LINKS, seal_proof
from support.programme import new_session, person

PROOF_KEY = sealed.private_key(sealed.new_private_key_text())


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


async def test_a_v2_command_beyond_the_limits_is_read_and_rejected_with_an_event(registration_pool):
    session = await new_session(registration_pool)
    command = RegisterParticipantV2.model_validate(  # as a consumer reads it: the schema's limits are not a parse error
        {
            "command_id": str(uuid.uuid4()),
            "session_id": str(session["id"]),
            "participant": {"name": "Lena\r\nBcc: x", "email": unique_email(), "language": "nl"},
            "wants_voucher": True,
        }
    )
    async with registration_pool.acquire() as conn, conn.transaction():
        await on_register_participant(conn, None, command, links=TEST_LINKS)

    assert await rejection_of(registration_pool, command.command_id) == ("invalid", "name")


async def test_a_v2_command_within_the_limits_registers(registration_pool):
    session = await new_session(registration_pool)
    command = RegisterParticipantV2(
        command_id=uuid.uuid4(),
        session_id=session["id"],
        participant=NewParticipant(name="Lena Peeters", email=unique_email(), language="nl"),
        wants_voucher=True,
        origin_station_id="008821006",
    )
    async with registration_pool.acquire() as conn, conn.transaction():
        await on_register_participant(conn, None, command, links=TEST_LINKS)

    status = await registration_pool.fetchval(
        "SELECT status FROM registrations WHERE command_id = $1", command.command_id
    )
    assert status == "confirmed"


def test_a_producer_cannot_build_a_v2_command_beyond_the_limits():
    with pytest.raises(ValidationError, match="origin_station_id is required"):
        RegisterParticipantV2(
            command_id=uuid.uuid4(),
            session_id=uuid.uuid4(),
            participant=NewParticipant(name="Lena Peeters", email="lena@example.be", language="nl"),
            wants_voucher=True,
        )


async def registered(pool, session_id) -> tuple[uuid.UUID, str]:
    async with pool.acquire() as conn, conn.transaction():
        done = await registrations.register(
            conn, session_id, registrations.NewRegistration(**person()), links=TEST_LINKS
        )
    return done.registration_id, done.manage_token


async def cancel_with(pool, registration_id: uuid.UUID, proof: str | None) -> CancelRegistration:
    command = CancelRegistration(command_id=uuid.uuid4(), registration_id=registration_id, proof=proof)
    async with pool.acquire() as conn, conn.transaction():
        await on_cancel_registration(conn, None, command, proof_key=PROOF_KEY)
    return command


async def test_a_cancellation_without_the_participants_proof_is_rejected_and_cancels_nothing(registration_pool):
    session = await new_session(registration_pool)
    registration_id, token = await registered(registration_pool, session["id"])
    _, someone_elses = await registered(registration_pool, session["id"])
    other_key = sealed.private_key(sealed.new_private_key_text()).public_key()
    attempts = {
        "missing": None,
        "another registration's token": seal_proof(PROOF_KEY.public_key(), someone_elses),
        "sealed for another key": sealed.seal(other_key, CANCEL_PROOF_PURPOSE, token),
        "sealed for another purpose": sealed.seal(PROOF_KEY.public_key(), MANAGE_LINK_PURPOSE, token),
        "the token in plain": token,
    }
    for proof in attempts.values():
        command = await cancel_with(registration_pool, registration_id, proof)
        reason, detail = await rejection_of(registration_pool, command.command_id, detail=True)
        assert reason == "invalid" and detail.startswith("proof") and token not in detail

    status = await registration_pool.fetchval("SELECT status FROM registrations WHERE id = $1", registration_id)
    assert status == "confirmed"


async def test_a_cancellation_with_the_sealed_manage_token_cancels(registration_pool):
    session = await new_session(registration_pool)
    registration_id, token = await registered(registration_pool, session["id"])

    await cancel_with(registration_pool, registration_id, seal_proof(PROOF_KEY.public_key(), token))

    status = await registration_pool.fetchval("SELECT status FROM registrations WHERE id = $1", registration_id)
    assert status == "cancelled"


async def test_a_proof_whose_session_has_ended_is_rejected_as_expired(registration_pool):
    session = await new_session(registration_pool)
    registration_id, token = await registered(registration_pool, session["id"])
    await registration_pool.execute(  # the session took place
        "UPDATE sessions SET starts_at = now() - interval '3 hours', ends_at = now() - interval '1 hour' WHERE id = $1",
        session["id"],
    )

    command = await cancel_with(registration_pool, registration_id, seal_proof(PROOF_KEY.public_key(), token))

    assert await rejection_of(registration_pool, command.command_id, detail=True) == (
        "invalid",
        "proof refused: the manage token expired when its session ended",
    )


async def rejection_of(pool, command_id: uuid.UUID, *, detail: bool = False) -> tuple[str, str]:
    """The rejection event of a command: its reason, and its detail (or the field the detail names)."""
    [value] = await pool.fetch(
        "SELECT value FROM outbox WHERE headers->>'ce_type' = 'be.atelier.registration.rejected.v1'"
        " AND convert_from(value, 'UTF8')::jsonb->>'command_id' = $1",
        str(command_id),
    )
    rejection = json.loads(value["value"])
    return rejection["reason"], rejection["detail"] if detail else rejection["detail"].split(":")[0]
