"""Commands from other services on `registration.commands`; every outcome is an event."""

from __future__ import annotations

import uuid

import asyncpg
from atelier_schemas import CancelRegistration, CloudEvent, RegisterParticipant
from atelier_schemas.limits import registrant_problem
from atelier_schemas.registration import RejectionReason
from atelier_schemas.vocabulary import PROFILES

from ..domain import Refused
from ..service_layer import registrations


async def on_register_participant(
    conn: asyncpg.Connection, event: CloudEvent, command: RegisterParticipant, *, public_url: str
) -> None:
    if await registrations.command_applied(conn, command.command_id):
        return  # the same command sent again under a new event id
    problem = _invalid(command)
    if problem:
        await _reject(conn, command, "invalid", problem)
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
    try:  # a refusal writes nothing but its event
        await registrations.register(
            conn, command.session_id, new, public_url=public_url, command_id=command.command_id
        )
    except Refused as refused:
        await _reject(conn, command, refused.reason.value, str(refused))


async def on_cancel_registration(conn: asyncpg.Connection, event: CloudEvent, command: CancelRegistration) -> None:
    try:
        async with conn.transaction():
            await registrations.cancel(conn, command.registration_id, by="participant")
    except Refused as refused:
        await _reject(conn, command, refused.reason.value, str(refused), command.registration_id)


def _invalid(command: RegisterParticipant) -> str | None:
    """The same limits as over HTTP, so no text beyond them reaches an event."""
    problem = registrant_problem(
        name=command.participant.name,
        email=str(command.participant.email),
        phone=command.phone,
        company=command.company,
        origin_station_id=command.origin_station_id,
    )
    if problem:
        return problem
    if command.profile not in PROFILES:
        return f"profile must be one of {', '.join(PROFILES)}"
    if command.wants_voucher and not command.origin_station_id:
        return "origin_station_id is required when wants_voucher is true"
    return None


async def _reject(
    conn: asyncpg.Connection,
    command: RegisterParticipant | CancelRegistration,
    reason: RejectionReason,
    detail: str,
    registration_id: uuid.UUID | None = None,
) -> None:
    await registrations.reject(conn, command.command_id, reason, detail, registration_id)
