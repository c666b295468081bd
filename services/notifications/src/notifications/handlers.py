"""What notifications does with each event: keep its projection, queue the messages, plan reminders.

Every handler runs inside the inbox transaction (see atelier_platform.consumer): the messages it
queues exist if and only if the event counts as handled. Nothing goes back in time (see
docs/adr/0003): a registration only moves forward (waiting, seated, cancelled), a session keeps its
newest facts, a voided voucher stays void; an event that is older news, or a copy under a new id
(a replayed dead letter), changes nothing and sends nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import asyncpg
from atelier_platform.consumer import Handlers
from atelier_schemas import (
    CloudEvent,
    PersonErased,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
    SessionCancelled,
    SessionChanged,
    TicketIssued,
    TicketRejected,
    TicketVoided,
)

from . import contexts, erasure, kinds, projection, reminders
from .outgoing import Outgoing, cause_for_registration, queue_message


def handlers(reminder_before: timedelta) -> Handlers:
    """`reminder_before`: how long before its session a participant's reminder goes."""
    return {
        RegistrationConfirmed: partial(on_registration_confirmed, reminder_before=reminder_before),
        RegistrationWaitlisted: on_registration_waitlisted,
        RegistrationPromoted: partial(on_registration_promoted, reminder_before=reminder_before),
        RegistrationCancelled: on_registration_cancelled,
        SessionChanged: partial(on_session_changed, reminder_before=reminder_before),
        SessionCancelled: on_session_cancelled,
        TicketIssued: on_ticket_issued,
        TicketRejected: on_ticket_rejected,
        TicketVoided: on_ticket_voided,
        PersonErased: erasure.on_person_erased,
    }


async def on_registration_confirmed(
    conn: asyncpg.Connection, event: CloudEvent, confirmed: RegistrationConfirmed, *, reminder_before: timedelta
) -> None:
    await _seat_taken(conn, event, confirmed, kinds.REGISTRATION_CONFIRMED, reminder_before)


async def on_registration_promoted(
    conn: asyncpg.Connection, event: CloudEvent, promoted: RegistrationPromoted, *, reminder_before: timedelta
) -> None:
    await _seat_taken(conn, event, promoted, kinds.REGISTRATION_PROMOTED, reminder_before)


async def _seat_taken(
    conn: asyncpg.Connection,
    event: CloudEvent,
    facts: RegistrationConfirmed | RegistrationPromoted,
    kind: str,
    reminder_before: timedelta,
) -> None:
    booking = await projection.booking_for(conn, facts, event.time, facts.sealed_manage_url)
    message = _message(event, kind, facts.registration_id, contexts.seat(booking))
    reminder_due = reminders.due_at(booking.starts_at, reminder_before, event.time)
    await projection.save_contact(conn, facts, "confirmed", booking, message, reminder_due)


async def on_registration_waitlisted(
    conn: asyncpg.Connection, event: CloudEvent, waitlisted: RegistrationWaitlisted
) -> None:
    booking = await projection.booking_for(conn, waitlisted, event.time, waitlisted.sealed_manage_url)
    context = contexts.waitlisted(booking, waitlisted.position)
    message = _message(event, kinds.REGISTRATION_WAITLISTED, waitlisted.registration_id, context)
    await projection.save_contact(conn, waitlisted, "waitlisted", booking, message)


async def on_registration_cancelled(
    conn: asyncpg.Connection, event: CloudEvent, cancelled: RegistrationCancelled
) -> None:
    booking = await projection.booking_for(conn, cancelled, event.time)
    by_organiser = cancelled.cancelled_by == "organiser"
    kind = kinds.REGISTRATION_CANCELLED_BY_ORGANISER if by_organiser else kinds.REGISTRATION_CANCELLED
    context = contexts.cancelled(booking, cancelled.reason, cancelled.previous_status)
    message = _message(event, kind, cancelled.registration_id, context)
    if await projection.save_contact(conn, cancelled, "cancelled", booking, message):
        await reminders.cancel(conn, [cancelled.registration_id])


async def on_session_changed(
    conn: asyncpg.Connection, event: CloudEvent, changed: SessionChanged, *, reminder_before: timedelta
) -> None:
    """Tell every seated participant whose time or room changed, with an updated calendar entry."""
    if not await projection.save_session(conn, changed.session, event.time):
        return  # older news of the session, or it was cancelled
    for moved in await projection.rebook(conn, changed.session):
        if moved.status != "confirmed":
            continue  # a waiting participant learns the new facts if and when promoted
        await queue_message(
            conn,
            Outgoing(
                cause=cause_for_registration(event.id, moved.registration_id),
                kind=kinds.SESSION_CHANGED,
                registration_id=moved.registration_id,
                caused_at=event.time,
                context=contexts.session_changed(moved.before, moved.after),
            ),
        )
        await reminders.reschedule(conn, moved.registration_id, moved.after.starts_at, reminder_before)


async def on_session_cancelled(conn: asyncpg.Connection, event: CloudEvent, cancelled: SessionCancelled) -> None:
    # Each registration gets its own RegistrationCancelled (and email); until then, no reminder goes out.
    await projection.cancel_session(conn, cancelled.session_id)
    await reminders.cancel_for_session(conn, cancelled.session_id)


# The contact may not be known yet for a ticket event (another topic); delivery waits for it.
async def on_ticket_issued(conn: asyncpg.Connection, event: CloudEvent, issued: TicketIssued) -> None:
    if issued.replaces is None:
        message = _message(event, kinds.VOUCHER_ISSUED, issued.registration_id, contexts.ticket(issued))
    else:  # its session moved: the new voucher comes with why, and which one it replaces
        context = {**contexts.ticket(issued), "replaced_code": await projection.voucher_code(conn, issued.replaces)}
        message = _message(event, kinds.VOUCHER_REISSUED, issued.registration_id, context)
    await projection.record_voucher(conn, issued.voucher_id, issued.registration_id, issued.code, "issued", message)


async def on_ticket_rejected(conn: asyncpg.Connection, event: CloudEvent, rejected: TicketRejected) -> None:
    await queue_message(
        conn, _message(event, kinds.VOUCHER_REJECTED, rejected.registration_id, contexts.ticket(rejected))
    )


async def on_ticket_voided(conn: asyncpg.Connection, event: CloudEvent, voided: TicketVoided) -> None:
    if voided.replaced_by is not None:  # the replacing voucher's email says this one is no longer valid
        if await projection.record_voucher(conn, voided.voucher_id, voided.registration_id, voided.code, "void"):
            await projection.drop_unsent_voucher_email(conn, voided.registration_id, voided.voucher_id)
        return
    message = _message(event, kinds.VOUCHER_VOIDED, voided.registration_id, contexts.ticket(voided))
    await projection.record_voucher(conn, voided.voucher_id, voided.registration_id, voided.code, "void", message)


def _message(event: CloudEvent, kind: str, registration_id: uuid.UUID, context: dict[str, Any]) -> Outgoing:
    """One message caused by this event for one registration."""
    return Outgoing(cause=event.id, kind=kind, registration_id=registration_id, caused_at=event.time, context=context)
