"""The rules of a session, on plain objects: seats, the FIFO line, overlap, start, cancellation, capacity, check-in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from registration.domain import Refusal
from registration.domain.places import overlaps, seats_to_give
from registration.domain.session import Book, Cancelled, CheckedIn, Confirmed, Conflict, Promoted, Session, Waitlisted

T0 = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
EMAILS = [f"person{n}@example.be" for n in range(6)]


def session_at(hour: float, hours: float = 2, capacity: int = 2) -> Session:
    starts = T0 + timedelta(hours=hour)
    return Session(uuid.uuid4(), starts, starts + timedelta(hours=hours), capacity)


def test_the_first_take_the_seats_and_the_rest_wait_in_arrival_order():
    book, session = Book(), session_at(1, capacity=2)
    book.schedule(session)
    people = [uuid.uuid4() for _ in range(4)]
    outcomes = [book.register(session.id, p, EMAILS[n], T0) for n, p in enumerate(people)]

    assert outcomes == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert book.events == [
        Confirmed(people[0]),
        Confirmed(people[1]),
        Waitlisted(people[2], 1),
        Waitlisted(people[3], 2),
    ]


def test_a_freed_seat_goes_to_the_first_in_line():
    book, session = Book(), session_at(1, capacity=1)
    book.schedule(session)
    seated, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for n, who in enumerate((seated, first, second)):
        book.register(session.id, who, EMAILS[n], T0)

    assert book.cancel(seated, "participant", T0) is True
    assert book.events[-2:] == [Cancelled(seated, "confirmed", "participant"), Promoted(first)]
    assert session.seated == [first] and session.line == [second]


def test_nobody_joins_or_moves_up_once_the_session_has_started():
    book, session = Book(), session_at(1, capacity=1)
    book.schedule(session)
    seated, waiting = uuid.uuid4(), uuid.uuid4()
    book.register(session.id, seated, EMAILS[0], T0)
    book.register(session.id, waiting, EMAILS[1], T0)
    started = session.starts_at

    assert book.register(session.id, uuid.uuid4(), EMAILS[2], started) == Refusal.SESSION_STARTED
    assert book.cancel(seated, "participant", started) == Refusal.SESSION_STARTED
    assert book.cancel(seated, "organiser", started) is True
    assert session.line == [waiting]  # the line closed at the start


def test_one_person_cannot_hold_two_sessions_that_overlap_but_may_hold_back_to_back_ones():
    book = Book()
    morning, overlapping, afternoon = session_at(1), session_at(2), session_at(3)
    for s in (morning, overlapping, afternoon):
        book.schedule(s)

    assert book.register(morning.id, uuid.uuid4(), "Lena@example.be", T0) == "confirmed"
    assert book.register(morning.id, uuid.uuid4(), "lena@EXAMPLE.be", T0) == Refusal.ALREADY_REGISTERED
    assert book.register(overlapping.id, uuid.uuid4(), "lena@example.be", T0) == Refusal.ALREADY_REGISTERED
    assert book.register(afternoon.id, uuid.uuid4(), "lena@example.be", T0) == "confirmed"


def test_more_seats_promote_people_waiting_and_fewer_than_taken_is_a_conflict():
    book, session = Book(), session_at(1, capacity=1)
    book.schedule(session)
    people = [uuid.uuid4() for _ in range(3)]
    for n, who in enumerate(people):
        book.register(session.id, who, EMAILS[n], T0)

    book.change(session.id, T0, capacity=2)
    assert book.events[-1] == Promoted(people[1])
    with pytest.raises(Conflict, match="2 people hold a seat"):
        book.change(session.id, T0, capacity=1)


def test_a_cancelled_session_cancels_every_registration_and_takes_nobody_new():
    book, session = Book(), session_at(1, capacity=1)
    book.schedule(session)
    seated, waiting = uuid.uuid4(), uuid.uuid4()
    book.register(session.id, seated, EMAILS[0], T0)
    book.register(session.id, waiting, EMAILS[1], T0)

    assert book.cancel_session(session.id) == 2
    assert book.events[-2:] == [
        Cancelled(seated, "confirmed", "organiser"),
        Cancelled(waiting, "waitlisted", "organiser"),
    ]
    assert book.register(session.id, uuid.uuid4(), EMAILS[2], T0) == Refusal.SESSION_CANCELLED
    with pytest.raises(Conflict, match="cancelled session"):
        book.change(session.id, T0, capacity=5)


def test_check_in_is_recorded_once_and_only_for_a_confirmed_seat():
    book, session = Book(), session_at(1, capacity=1)
    book.schedule(session)
    seated, waiting = uuid.uuid4(), uuid.uuid4()
    book.register(session.id, seated, EMAILS[0], T0)
    book.register(session.id, waiting, EMAILS[1], T0)

    assert book.check_in(seated) is True and book.check_in(seated) is False
    assert book.events.count(CheckedIn(seated)) == 1
    with pytest.raises(Conflict, match="waitlisted, not confirmed"):
        book.check_in(waiting)
    assert book.check_in(uuid.uuid4()) == Refusal.UNKNOWN_REGISTRATION


def test_touching_sessions_do_not_overlap_and_free_seats_go_only_to_an_open_line():
    assert not overlaps(T0, T0 + timedelta(hours=1), T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    assert overlaps(T0, T0 + timedelta(hours=2), T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    later = T0 + timedelta(hours=1)
    assert seats_to_give("scheduled", later, T0, capacity=5, seats_taken=3, waiting=4) == 2
    assert seats_to_give("scheduled", later, T0, capacity=5, seats_taken=3, waiting=1) == 1
    assert seats_to_give("scheduled", later, later, capacity=5, seats_taken=3, waiting=4) == 0
    assert seats_to_give("cancelled", later, T0, capacity=5, seats_taken=0, waiting=4) == 0


class SessionRules(RuleBasedStateMachine):
    """Any sequence of operations keeps every rule; the events tell each registration's whole story."""

    @initialize(capacities=st.lists(st.integers(1, 3), min_size=2, max_size=3))
    def programme(self, capacities):
        self.book, self.now = Book(), T0
        # Two-hour sessions an hour apart: neighbours overlap, every other one does not.
        for n, capacity in enumerate(capacities):
            self.book.schedule(session_at(1 + n, capacity=capacity))
        self.joined: list[uuid.UUID] = []  # every registration that got a place, in arrival order

    @property
    def session_ids(self):
        return list(self.book.sessions)

    @rule(pick=st.integers(0, 10), email=st.sampled_from(EMAILS))
    def register(self, pick, email):
        session = self.book.sessions[self.session_ids[pick % len(self.session_ids)]]
        registration_id = uuid.uuid4()
        held = [
            self.book.sessions[r.session_id]
            for r in self.book.registrations.values()
            if r.email == email and r.status in ("confirmed", "waitlisted")
        ]
        clash = any(h is session or (h.starts_at < session.ends_at and h.ends_at > session.starts_at) for h in held)
        outcome = self.book.register(session.id, registration_id, email, self.now)
        if session.status == "cancelled":
            assert outcome == Refusal.SESSION_CANCELLED
        elif session.starts_at <= self.now:
            assert outcome == Refusal.SESSION_STARTED
        else:
            assert (outcome == Refusal.ALREADY_REGISTERED) is clash
        if outcome in ("confirmed", "waitlisted"):
            self.joined.append(registration_id)

    @precondition(lambda self: self.joined)
    @rule(pick=st.integers(0, 50), by=st.sampled_from(["participant", "organiser"]))
    def cancel(self, pick, by):
        registration = self.book.registrations[self.joined[pick % len(self.joined)]]
        session = self.book.sessions[registration.session_id]
        was = registration.status
        line_before = list(session.line)
        outcome = self.book.cancel(registration.id, by, self.now)
        if was == "cancelled":
            assert outcome is False
        elif by == "participant" and session.starts_at <= self.now:
            assert outcome == Refusal.SESSION_STARTED and registration.status == was
        else:
            assert outcome is True and registration.status == "cancelled"
            promoted = [e.registration_id for e in self.book.events if isinstance(e, Promoted)]
            if was == "confirmed" and line_before and session.starts_at > self.now:
                assert promoted[-1] == line_before[0]  # the first in line, nobody else

    @rule(pick=st.integers(0, 10), capacity=st.integers(1, 4))
    def change_capacity(self, pick, capacity):
        session = self.book.sessions[self.session_ids[pick % len(self.session_ids)]]
        taken = len(session.seated)
        try:
            self.book.change(session.id, self.now, capacity=capacity)
        except Conflict:
            assert capacity < taken or session.status == "cancelled"
        else:
            assert session.capacity == capacity

    @rule(pick=st.integers(0, 10), hours=st.integers(-2, 3))
    def move(self, pick, hours):
        session = self.book.sessions[self.session_ids[pick % len(self.session_ids)]]
        shift = timedelta(hours=hours)
        try:
            self.book.change(session.id, self.now, starts_at=session.starts_at + shift, ends_at=session.ends_at + shift)
        except Conflict:
            assert session.status == "cancelled"

    @rule(pick=st.integers(0, 10))
    def cancel_session(self, pick):
        session = self.book.sessions[self.session_ids[pick % len(self.session_ids)]]
        try:
            self.book.cancel_session(session.id)
        except Conflict:
            assert session.status == "cancelled"
        assert session.seated == [] and session.line == []

    @precondition(lambda self: self.joined)
    @rule(pick=st.integers(0, 50))
    def check_in(self, pick):
        registration = self.book.registrations[self.joined[pick % len(self.joined)]]
        attended = registration.attended
        try:
            assert self.book.check_in(registration.id) is (not attended)
        except Conflict:
            assert registration.status != "confirmed"

    @rule(minutes=st.integers(0, 120))
    def time_passes(self, minutes):
        self.now += timedelta(minutes=minutes)

    @invariant()
    def capacity_is_a_hard_limit(self):
        for session in self.book.sessions.values():
            assert len(session.seated) <= session.capacity

    @invariant()
    def nobody_waits_for_a_free_seat_while_the_line_is_open(self):
        for s in self.book.sessions.values():
            if s.status == "scheduled" and s.starts_at > self.now and s.line:
                assert len(s.seated) == s.capacity

    @invariant()
    def the_line_keeps_arrival_order(self):
        for session in self.book.sessions.values():
            assert session.line == sorted(session.line, key=self.joined.index)

    @invariant()
    def the_events_tell_each_registrations_status(self):
        told = {}
        for event in self.book.events:
            told[event.registration_id] = {
                Confirmed: "confirmed",
                Waitlisted: "waitlisted",
                Promoted: "confirmed",
                Cancelled: "cancelled",
                CheckedIn: told.get(event.registration_id),
            }[type(event)]
        assert told == {r.id: r.status for r in self.book.registrations.values()}

    @invariant()
    def seats_and_line_match_the_registrations(self):
        for s in self.book.sessions.values():
            mine = [r for r in self.book.registrations.values() if r.session_id == s.id]
            assert sorted(s.seated) == sorted(r.id for r in mine if r.status == "confirmed")
            assert sorted(s.line) == sorted(r.id for r in mine if r.status == "waitlisted")


SessionRules.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_any_sequence_of_operations_keeps_the_rules = SessionRules.TestCase
