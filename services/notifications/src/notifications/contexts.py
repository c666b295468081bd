"""What each message kind carries to its template, built from the events (stored as JSON)."""

from __future__ import annotations

from typing import Any

from atelier_schemas import TicketIssued, TicketRejected, TicketVoided

from .booking import Booking


def seat(booking: Booking) -> dict[str, Any]:
    """Confirmed, promoted, reminder: the session and how to manage the registration."""
    return booking.context()


def waitlisted(booking: Booking, position: int) -> dict[str, Any]:
    return {**booking.context(), "position": position}


def cancelled(booking: Booking, reason: str | None, previous_status: str) -> dict[str, Any]:
    return {**booking.context(), "reason": reason, "previous_status": previous_status}


def session_changed(before: Booking, after: Booking) -> dict[str, Any]:
    return {
        **after.context(),
        "previous_starts_at": before.starts_at.isoformat(),
        "previous_ends_at": before.ends_at.isoformat(),
        "previous_room": before.room,
    }


def ticket(event: TicketIssued | TicketRejected | TicketVoided) -> dict[str, Any]:
    return event.model_dump(mode="json")
