"""The rules of a session's places, one function each: who may join, leave, move up or be checked in.

No I/O and no clock of their own: the caller passes `now` (the database's clock in the service).
`Session` (in `session.py`) plays them on objects; the storage calls them on locked rows, and
`take_places()` (migration 0003) states the joining rules in SQL for speed, checked against
`Session` by a model-based test on real Postgres.
"""

from __future__ import annotations

from datetime import datetime

from . import Refusal

SCHEDULED, CANCELLED = "scheduled", "cancelled"
CONFIRMED, WAITLISTED = "confirmed", "waitlisted"
ACTIVE = (CONFIRMED, WAITLISTED)


def overlaps(starts_at: datetime, ends_at: datetime, other_starts_at: datetime, other_ends_at: datetime) -> bool:
    """One person cannot hold two sessions that share a moment (touching ends are fine)."""
    return starts_at < other_ends_at and ends_at > other_starts_at


def refusal_to_join(status: str, starts_at: datetime, now: datetime) -> Refusal | None:
    """The line and the seats are open until the session starts, unless it was cancelled."""
    if status == CANCELLED:
        return Refusal.SESSION_CANCELLED
    if starts_at <= now:
        return Refusal.SESSION_STARTED
    return None


def has_free_seat(capacity: int, seats_taken: int) -> bool:
    """Capacity is a hard limit: a seat when one is free, else a place at the end of the line."""
    return seats_taken < capacity


def refusal_to_leave(by: str, starts_at: datetime, now: datetime) -> Refusal | None:
    """A participant may cancel until the start; the organiser at any time."""
    if by == "participant" and starts_at <= now:
        return Refusal.SESSION_STARTED
    return None


def seats_to_give(
    status: str, starts_at: datetime, now: datetime, capacity: int, seats_taken: int, waiting: int
) -> int:
    """How many of the first in line move up now: free seats go to the line while it is open."""
    if refusal_to_join(status, starts_at, now) is not None:
        return 0
    return max(0, min(capacity - seats_taken, waiting))


def change_conflict(
    status: str, seats_taken: int, *, starts_at: datetime, ends_at: datetime, capacity: int
) -> str | None:
    """Why a session cannot take this time, room or capacity; None when it can."""
    if status == CANCELLED:
        return "a cancelled session cannot be changed"
    if ends_at <= starts_at:
        return "ends_at must be after starts_at"
    if capacity < seats_taken:
        return f"{seats_taken} people hold a seat: capacity cannot go below that"
    return None


def check_in_refusal(status: str) -> str | None:
    """Only a confirmed registration is checked in."""
    if status != CONFIRMED:
        return f"registration is {status}, not confirmed"
    return None
