"""Sessions and registrations as plain objects: they decide outcomes and record events, nothing else.

`Book` is the whole registration state of a programme in memory — the reference the storage is
measured against, and the place to read the rules in one go.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from . import Refusal
from . import places as rules


@dataclass(frozen=True)
class Confirmed:
    registration_id: uuid.UUID


@dataclass(frozen=True)
class Waitlisted:
    registration_id: uuid.UUID
    position: int


@dataclass(frozen=True)
class Promoted:
    registration_id: uuid.UUID


@dataclass(frozen=True)
class Cancelled:
    registration_id: uuid.UUID
    previous: str
    by: str


@dataclass(frozen=True)
class CheckedIn:
    registration_id: uuid.UUID


Event = Confirmed | Waitlisted | Promoted | Cancelled | CheckedIn


class Conflict(Exception):
    """An organiser's change that would break a rule; the text says which."""


@dataclass
class Registration:
    id: uuid.UUID
    session_id: uuid.UUID
    email: str
    status: str
    attended: bool = False


@dataclass
class Session:
    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    status: str = rules.SCHEDULED
    seated: list[uuid.UUID] = field(default_factory=list)
    line: list[uuid.UUID] = field(default_factory=list)  # first in, first out

    def waitlist_position(self, registration_id: uuid.UUID) -> int | None:
        return self.line.index(registration_id) + 1 if registration_id in self.line else None


@dataclass
class Book:
    sessions: dict[uuid.UUID, Session] = field(default_factory=dict)
    registrations: dict[uuid.UUID, Registration] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    def schedule(self, session: Session) -> None:
        self.sessions[session.id] = session

    def register(self, session_id: uuid.UUID, registration_id: uuid.UUID, email: str, now: datetime) -> Refusal | str:
        """A seat, else a place at the end of the line; returns the status or the refusal."""
        session = self.sessions.get(session_id)
        if session is None:
            return Refusal.UNKNOWN_SESSION
        refusal = rules.refusal_to_join(session.status, session.starts_at, now)
        if refusal is not None:
            return refusal
        if self._holds_overlapping(email, session):
            return Refusal.ALREADY_REGISTERED
        if rules.has_free_seat(session.capacity, len(session.seated)):
            session.seated.append(registration_id)
            status = rules.CONFIRMED
            self.events.append(Confirmed(registration_id))
        else:
            session.line.append(registration_id)
            status = rules.WAITLISTED
            self.events.append(Waitlisted(registration_id, len(session.line)))
        self.registrations[registration_id] = Registration(registration_id, session_id, email, status)
        return status

    def cancel(self, registration_id: uuid.UUID, by: str, now: datetime) -> Refusal | bool:
        """Cancel one registration (False when it already was); a freed seat goes to the first in line."""
        registration = self.registrations.get(registration_id)
        if registration is None:
            return Refusal.UNKNOWN_REGISTRATION
        if registration.status == rules.CANCELLED:
            return False
        session = self.sessions[registration.session_id]
        refusal = rules.refusal_to_leave(by, session.starts_at, now)
        if refusal is not None:
            return refusal
        self._cancel(registration, session, by)
        self._promote(session, now)
        return True

    def change(
        self,
        session_id: uuid.UUID,
        now: datetime,
        *,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        capacity: int | None = None,
    ) -> None:
        """New time or capacity (raises Conflict); more seats go to the line at once."""
        session = self.sessions[session_id]
        starts_at = starts_at or session.starts_at
        ends_at = ends_at or session.ends_at
        capacity = capacity or session.capacity
        problem = rules.change_conflict(
            session.status, len(session.seated), starts_at=starts_at, ends_at=ends_at, capacity=capacity
        )
        if problem:
            raise Conflict(problem)
        session.starts_at, session.ends_at, session.capacity = starts_at, ends_at, capacity
        self._promote(session, now)

    def cancel_session(self, session_id: uuid.UUID) -> int:
        """The organiser cancels the session: every registration goes, each with its event."""
        session = self.sessions[session_id]
        if session.status == rules.CANCELLED:
            raise Conflict("the session is already cancelled")
        session.status = rules.CANCELLED
        active = [r for r in self.registrations.values() if r.session_id == session_id and r.status in rules.ACTIVE]
        for registration in active:
            self._cancel(registration, session, "organiser")
        return len(active)

    def check_in(self, registration_id: uuid.UUID) -> Refusal | bool:
        """Record attendance once; True the first time."""
        registration = self.registrations.get(registration_id)
        if registration is None:
            return Refusal.UNKNOWN_REGISTRATION
        problem = rules.check_in_refusal(registration.status)
        if problem:
            raise Conflict(problem)
        if registration.attended:
            return False
        registration.attended = True
        self.events.append(CheckedIn(registration_id))
        return True

    def _holds_overlapping(self, email: str, session: Session) -> bool:
        for held in self.registrations.values():
            if held.email.lower() != email.lower() or held.status not in rules.ACTIVE:
                continue
            other = self.sessions[held.session_id]
            if other.id == session.id or rules.overlaps(
                other.starts_at, other.ends_at, session.starts_at, session.ends_at
            ):
                return True
        return False

    def _cancel(self, registration: Registration, session: Session, by: str) -> None:
        (session.seated if registration.status == rules.CONFIRMED else session.line).remove(registration.id)
        self.events.append(Cancelled(registration.id, registration.status, by))
        registration.status = rules.CANCELLED

    def _promote(self, session: Session, now: datetime) -> None:
        moving = rules.seats_to_give(
            session.status, session.starts_at, now, session.capacity, len(session.seated), len(session.line)
        )
        for registration_id in session.line[:moving]:
            session.line.remove(registration_id)
            session.seated.append(registration_id)
            self.registrations[registration_id].status = rules.CONFIRMED
            self.events.append(Promoted(registration_id))
