"""Commands from other services on `registration.commands`; every outcome is an event."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import partial

import asyncpg
from atelier_platform import sealed
from atelier_platform.consumer import AroundBatch, Handlers
from atelier_platform.logs import correlation_id
from atelier_platform.stretches import by_stretches, current, written_first
from atelier_schemas import CancelRegistration, CloudEvent, Message, RegisterParticipant, RegisterParticipantV2
from atelier_schemas.commands import CANCEL_PROOF_PURPOSE, register_participant_problem
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ..domain import Refused
from ..service_layer import registrations
from ..service_layer.manage_links import ManageLinks
from . import erasure_commands
from .register_stretches import RegisterStretches


def handlers(proof_key: X25519PrivateKey) -> Handlers:
    """`proof_key` opens a cancellation's proof. RegisterParticipant commands are decided by stretches: consume
    with `around_batch`."""
    return written_first(
        {
            RegisterParticipant: on_register_participant,
            RegisterParticipantV2: on_register_participant,
            CancelRegistration: partial(on_cancel_registration, proof_key=proof_key),
            **erasure_commands.HANDLERS,
        },
        RegisterStretches,
    )


def around_batch(links: Callable[[], ManageLinks]) -> AroundBatch:
    """`links` seal the manage links the events carry (made when the service starts)."""

    def around(conn: asyncpg.Connection, payloads: Sequence[Message]) -> AbstractAsyncContextManager[None]:
        return by_stretches(conn, RegisterStretches(payloads, links()))

    return around


async def on_register_participant(
    conn: asyncpg.Connection, event: CloudEvent, command: RegisterParticipant | RegisterParticipantV2
) -> None:
    """Both versions: v2 only states the limits in its schema; they are checked for every version. Decided
    with the rest of its stretch when the stretch is written; a refusal writes nothing but its event."""
    batch = current(RegisterStretches)
    if await batch.already_applied(conn, command):
        return  # the same command sent again under a new event id
    problem = register_participant_problem(command)
    if problem:
        await registrations.reject(conn, command.command_id, "invalid", problem)
        return
    new = registrations.NewRegistration(
        name=command.participant.name,
        email=str(command.participant.email),
        language=command.participant.language,
        wants_voucher=command.wants_voucher,
        origin_station_id=command.origin_station_id,
        phone=command.phone,
        profile=command.profile,
        company=command.company,
        consent_to_contact=command.consent_to_contact,
    )
    batch.applications.append(
        registrations.Application(command.session_id, new, command.command_id, correlation_id=correlation_id.get())
    )


async def on_cancel_registration(
    conn: asyncpg.Connection, event: CloudEvent, command: CancelRegistration, *, proof_key: X25519PrivateKey
) -> None:
    """Only with the participant's right: the manage token, sealed for registration (see docs/adr/0007)."""
    problem = await _unproven(conn, command, proof_key)
    if problem:
        await registrations.reject(conn, command.command_id, "invalid", problem, command.registration_id)
        return
    try:
        async with conn.transaction():
            await registrations.cancel(conn, command.registration_id, by="participant")
    except Refused as refused:
        await registrations.reject(
            conn, command.command_id, refused.reason.value, str(refused), command.registration_id
        )


async def _unproven(conn: asyncpg.Connection, command: CancelRegistration, proof_key: X25519PrivateKey) -> str | None:
    """Why the command does not prove the right to act on its registration; None when it does, or when there is
    no such registration (the cancellation then says so)."""
    if command.proof is None:
        return "proof missing: send the participant's manage token sealed for registration (purpose cancel-proof)"
    try:
        token = sealed.open_box(proof_key, CANCEL_PROOF_PURPOSE, command.proof)
    except sealed.Unsealable:
        return "proof refused: it does not open with registration's key for purpose cancel-proof"
    try:
        if await registrations.own_registration(conn, command.registration_id, token) is not None:
            return None
    except registrations.LinkExpired:
        return "proof refused: the manage token expired when its session ended"
    if not await registrations.exists(conn, command.registration_id):
        return None
    return "proof refused: it is not this registration's manage token"
