"""Commands keep the same limits as HTTP, and a cancellation proves the participant's right; a command refused
gets a rejection event, never a place or a cancellation."""

from __future__ import annotations

import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from atelier_devkit.api import unique_email
from atelier_devkit.kafka import cloud_event
from atelier_platform import sealed
from atelier_platform.consumer import EventConsumer
from atelier_schemas import (
    CancelRegistration,
    CloudEvent,
    Message,
    Participant,
    RegisterParticipant,
    RegisterParticipantV2,
)
from atelier_schemas.commands import CANCEL_PROOF_PURPOSE, NewParticipant
from atelier_schemas.registration import MANAGE_LINK_PURPOSE
from atelier_schemas.topics import REGISTRATION_COMMANDS
from pydantic import ValidationError
from registration.entrypoints.commands import around_batch, handlers, on_cancel_registration
from registration.service_layer import registrations
from support.links import TEST_LINKS, seal_proof
from support.programme import new_session, person, register_one
from support.ticketing import handled, record_of

PROOF_KEY = sealed.private_key(sealed.new_private_key_text())
GROUP = "registration"


@pytest.fixture
async def consumer(infra, registration_pool):
    """Registration's command consumer as app.py wires it."""
    producer = AIOKafkaProducer(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])  # for dead letters
    await producer.start()
    try:
        yield EventConsumer(
            group=GROUP,
            pool=registration_pool,
            producer=producer,
            handlers=handlers(PROOF_KEY),
            around_batch=around_batch(lambda: TEST_LINKS),
        )
    finally:
        await producer.stop()


async def consume(consumer: EventConsumer, *commands: Message) -> list[CloudEvent]:
    """`commands` handed to the consumer as one batch; their events."""
    events = [cloud_event(command) for command in commands]
    await consumer.handle_batch([record_of(event, REGISTRATION_COMMANDS) for event in events])
    return events


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
    registration_pool, consumer, name, company, field
):
    session = await new_session(registration_pool)
    email = f"limits-{uuid.uuid4().hex[:10]}@example.be"
    command = RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=session["id"],
        participant=Participant(name=name, email=email, language="fr"),
        company=company,
    )
    await consume(consumer, command)

    [event] = await registration_pool.fetch(
        "SELECT headers->>'ce_type' AS type, value FROM outbox WHERE key = $1", str(command.command_id)
    )
    rejection = json.loads(event["value"])
    assert event["type"] == "be.atelier.registration.rejected.v1" and rejection["reason"] == "invalid"
    assert rejection["detail"].startswith(f"{field}:") and len(event["value"]) < 1000  # the text is not echoed
    assert not await registration_pool.fetchval("SELECT count(*) FROM registrations WHERE email = $1", email)


async def test_a_v2_command_beyond_the_limits_is_read_and_rejected_with_an_event(registration_pool, consumer):
    session = await new_session(registration_pool)
    command = RegisterParticipantV2.model_validate(  # as a consumer reads it: the schema's limits are not a parse error
        {
            "command_id": str(uuid.uuid4()),
            "session_id": str(session["id"]),
            "participant": {"name": "Lena\r\nBcc: x", "email": unique_email(), "language": "nl"},
            "wants_voucher": True,
        }
    )
    await consume(consumer, command)

    assert await rejection_of(registration_pool, command.command_id) == ("invalid", "name")


async def test_a_v2_command_within_the_limits_registers(registration_pool, consumer):
    session = await new_session(registration_pool)
    command = RegisterParticipantV2(
        command_id=uuid.uuid4(),
        session_id=session["id"],
        participant=NewParticipant(name="Lena Peeters", email=unique_email(), language="nl"),
        wants_voucher=True,
        origin_station_id="008821006",
    )
    await consume(consumer, command)

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
        done = await register_one(conn, session_id, registrations.NewRegistration(**person()))
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


def register_command(session_id: uuid.UUID, name: str = "Lena Peeters") -> RegisterParticipant:
    return RegisterParticipant(
        command_id=uuid.uuid4(),
        session_id=session_id,
        participant=Participant(name=name, email=unique_email(), language="fr"),
    )


async def status_of(pool, command: RegisterParticipant) -> list[str]:
    rows = await pool.fetch("SELECT status FROM registrations WHERE command_id = $1", command.command_id)
    return [row["status"] for row in rows]


async def test_a_batch_of_commands_registers_each_as_if_it_came_alone(registration_pool, consumer):
    """Decided together by stretches: seats in the batch's order, a command sent again (under a new event id)
    registers once, a refused or invalid command gets its own rejection under its own correlation id."""
    session = await new_session(registration_pool, capacity=2)
    first, second, third = (register_command(session["id"]) for _ in range(3))
    invalid, nowhere = register_command(session["id"], name="Lena\nPeeters"), register_command(uuid.uuid4())
    events = await consume(consumer, first, invalid, second, first, nowhere, third)

    assert [await status_of(registration_pool, c) for c in (first, second, third)] == [
        ["confirmed"],
        ["confirmed"],
        ["waitlisted"],
    ]
    assert await rejection_of(registration_pool, invalid.command_id) == ("invalid", "name")
    unknown = await rejection_of(registration_pool, nowhere.command_id)
    assert unknown == ("unknown_session", "this session does not exist")
    correlation = await registration_pool.fetchval(
        "SELECT headers->>'ce_correlationid' FROM outbox WHERE key = $1", str(nowhere.command_id)
    )
    assert correlation == events[4].id
    assert await handled(registration_pool, [e.id for e in events], GROUP) == len(events)


async def test_a_cancellation_in_a_batch_comes_after_the_commands_before_it(registration_pool, consumer):
    """The registrations of the commands before a cancellation are written before it is handled: the one
    waiting for the seat it frees is promoted, and the one after it finds no seat left."""
    session = await new_session(registration_pool, capacity=1)
    holder, token = await registered(registration_pool, session["id"])
    waiting, after = register_command(session["id"]), register_command(session["id"])
    cancel = CancelRegistration(
        command_id=uuid.uuid4(), registration_id=holder, proof=seal_proof(PROOF_KEY.public_key(), token)
    )
    await consume(consumer, waiting, cancel, after)

    assert await status_of(registration_pool, waiting) == ["confirmed"]
    assert await status_of(registration_pool, after) == ["waitlisted"]
    [promoted] = await registration_pool.fetch(
        "SELECT key FROM outbox WHERE headers->>'ce_type' = 'be.atelier.registration.promoted.v1'"
        " AND key = (SELECT id::text FROM registrations WHERE command_id = $1)",
        waiting.command_id,
    )
    assert promoted


async def test_registrations_that_cannot_be_written_fail_their_own_command_not_the_one_after_them(
    registration_pool, consumer, monkeypatch
):
    """A stretch is written when the next command comes: when it fails for good (here a registration code
    already taken), that command is not dead-lettered for it; the batch is decided again a record at a time."""
    session = await new_session(registration_pool, capacity=5)
    holder, token = await registered(registration_pool, session["id"])
    taken = await registration_pool.fetchval("SELECT code FROM registrations WHERE id = $1", holder)
    monkeypatch.setattr("registration.service_layer.registrations.new_registration_code", lambda: taken)
    colliding = register_command(session["id"])
    cancel = CancelRegistration(
        command_id=uuid.uuid4(), registration_id=holder, proof=seal_proof(PROOF_KEY.public_key(), token)
    )
    events = await consume(consumer, colliding, cancel)

    assert await status_of(registration_pool, colliding) == []
    assert await registration_pool.fetchval("SELECT status FROM registrations WHERE id = $1", holder) == "cancelled"
    assert await handled(registration_pool, [events[0].id], GROUP) == 0  # dead-lettered
    assert await handled(registration_pool, [events[1].id], GROUP) == 1
