"""The storage agrees with the pure core: random operations give the same outcomes, rows and events.

Hypothesis drives register (alone and in batches), cancel, change capacity, move and check in
against both the Postgres implementation (`take_places()` and the use cases) and `domain.session.Book`,
and compares after every step: each outcome, each session's seats and FIFO line, each
registration's status, and the events written to the outbox.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from atelier_platform.db import create_pool
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from registration.domain import Refusal, Refused
from registration.domain.session import Book, Cancelled, CheckedIn, Confirmed, Conflict, Promoted, Session, Waitlisted
from registration.service_layer import programme, registrations
from registration.service_layer.registrations import Application, NewRegistration
from support.links import TEST_LINKS
from support.programme import new_session

EVENT_OF_TYPE = {
    "be.atelier.registration.confirmed.v1": lambda p: Confirmed(uuid.UUID(p["registration_id"])),
    "be.atelier.registration.waitlisted.v1": lambda p: Waitlisted(uuid.UUID(p["registration_id"]), p["position"]),
    "be.atelier.registration.promoted.v1": lambda p: Promoted(uuid.UUID(p["registration_id"])),
    "be.atelier.registration.cancelled.v1": lambda p: Cancelled(
        uuid.UUID(p["registration_id"]), p["previous_status"], p["cancelled_by"]
    ),
    "be.atelier.registration.attendance_recorded.v1": lambda p: CheckedIn(uuid.UUID(p["registration_id"])),
}


def storage_agrees_with_the_core(database_url: str):
    class Agreement(RuleBasedStateMachine):
        @initialize(capacities=st.lists(st.integers(1, 3), min_size=3, max_size=3))
        def programme(self, capacities):
            self.loop = asyncio.new_event_loop()
            self.run = self.loop.run_until_complete
            self.pool = self.run(create_pool(database_url, max_size=2))
            self.book, self.ids, self.code = Book(), [], {}
            self.people = [f"p{n}-{uuid.uuid4().hex[:8]}@example.be" for n in range(4)]
            first = self.run(new_session(self.pool, capacity=capacities[0]))
            # Two-hour sessions an hour apart: neighbours overlap, the first and the last do not.
            sessions = [first] + [
                self.run(new_session(self.pool, capacity=c, starts=first["starts_at"] + timedelta(hours=n)))
                for n, c in enumerate(capacities[1:], start=1)
            ]
            for s in sessions:
                self.book.schedule(Session(s["id"], s["starts_at"], s["ends_at"], s["capacity"]))
            self.sessions = [s["id"] for s in sessions]

        def teardown(self):
            if hasattr(self, "loop"):
                self.run(self.pool.close())
                self.loop.close()

        def step(self, use_case, model):
            """Run `use_case(conn)` in one transaction, then `model(now, its outcome)` on the core; returns both."""

            async def go():
                async with self.pool.acquire() as conn:
                    before = await conn.fetchval("SELECT coalesce(max(position), 0) FROM outbox")
                    async with conn.transaction():
                        now = await conn.fetchval("SELECT now()")
                        try:
                            stored = await use_case(conn)
                        except (Refused, programme.ProgrammeConflict, registrations.NotConfirmed) as exc:
                            stored = exc
                    return stored, now, before

            stored, now, before = self.run(go())
            for outcome in stored if isinstance(stored, list) else []:
                if isinstance(outcome, registrations.Registered):
                    self.ids.append(outcome.registration_id)
                    self.code[outcome.registration_id] = outcome.code
            events_before = len(self.book.events)
            try:
                modelled = model(now, stored)
            except Conflict as exc:
                modelled = exc
            self.expect_events(before, self.book.events[events_before:])
            return stored, modelled

        def expect_events(self, before, expected):
            rows = self.run(
                self.pool.fetch(
                    "SELECT headers->>'ce_type' AS type, value FROM outbox WHERE position > $1"
                    " AND key = ANY($2::text[]) ORDER BY position",
                    before,
                    [str(i) for i in self.ids],
                )
            )
            written = [EVENT_OF_TYPE[r["type"]](json.loads(r["value"])) for r in rows]
            # One organiser cancellation stamps its registrations in one instant: their order is not kept.
            assert sorted(written, key=repr) == sorted(expected, key=repr)
            assert [e for e in written if not isinstance(e, Cancelled)] == [
                e for e in expected if not isinstance(e, Cancelled)
            ]

        @rule(asked=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3), st.booleans()), min_size=1, max_size=4))
        def register(self, asked):
            """One batch: people for sessions, some with their email in capitals."""
            applications = [
                Application(self.sessions[s], NewRegistration(f"P{p}", who.upper() if loud else who, "fr"))
                for s, p, loud in asked
                for who in [self.people[p]]
            ]

            def model(now, stored):
                outcomes = [None] * len(applications)
                # The storage serves a batch session by session (in id order), each in arrival order.
                for i in sorted(range(len(applications)), key=lambda i: applications[i].session_id.bytes):
                    a, done = applications[i], stored[i]
                    registration_id = (
                        done.registration_id if isinstance(done, registrations.Registered) else uuid.uuid4()
                    )
                    outcomes[i] = self.book.register(a.session_id, registration_id, a.who.email, now)
                return outcomes

            stored, modelled = self.step(
                lambda conn: registrations.register_many(conn, applications, links=TEST_LINKS), model
            )
            assert [o if isinstance(o, Refusal) else o.status for o in stored] == modelled
            for outcome in stored:
                if isinstance(outcome, registrations.Registered) and outcome.status == "waitlisted":
                    session = self.book.sessions[self.book.registrations[outcome.registration_id].session_id]
                    assert outcome.waitlist_position == session.waitlist_position(outcome.registration_id)

        @precondition(lambda self: self.ids)
        @rule(pick=st.integers(0, 100), by=st.sampled_from(["participant", "organiser"]))
        def cancel(self, pick, by):
            registration_id = self.ids[pick % len(self.ids)]
            stored, modelled = self.step(
                lambda conn: registrations.cancel(conn, registration_id, by=by),
                lambda now, _: self.book.cancel(registration_id, by, now),
            )
            assert (stored.reason if isinstance(stored, Refused) else stored) == modelled

        @rule(pick=st.integers(0, 2), capacity=st.integers(1, 4))
        def change_capacity(self, pick, capacity):
            session_id = self.sessions[pick]
            stored, modelled = self.step(
                lambda conn: programme.change_session(conn, session_id, {"capacity": capacity}),
                lambda now, _: self.book.change(session_id, now, capacity=capacity),
            )
            assert isinstance(stored, programme.ProgrammeConflict) == isinstance(modelled, Conflict)

        @rule(pick=st.integers(0, 2), hours=st.sampled_from([-2, -1, 1, 2, "started"]))
        def move(self, pick, hours):
            session = self.book.sessions[self.sessions[pick]]
            if hours == "started":  # under way: an hour ago, for two hours
                changes = {"starts_at": None, "ends_at": None}
            else:
                shift = timedelta(hours=hours)
                changes = {"starts_at": session.starts_at + shift, "ends_at": session.ends_at + shift}

            async def use_case(conn):
                if hours == "started":
                    now = await conn.fetchval("SELECT now()")
                    changes.update(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
                return await programme.change_session(conn, session.id, dict(changes))

            stored, modelled = self.step(use_case, lambda now, _: self.book.change(session.id, now, **changes))
            assert isinstance(stored, programme.ProgrammeConflict) == isinstance(modelled, Conflict)

        @rule(pick=st.integers(0, 2))
        def cancel_session(self, pick):
            session_id = self.sessions[pick]
            stored, modelled = self.step(
                lambda conn: programme.cancel_session(conn, session_id, "Trainer ill"),
                lambda now, _: self.book.cancel_session(session_id),
            )
            assert (stored if isinstance(stored, int) else "conflict") == (
                modelled if isinstance(modelled, int) else "conflict"
            )

        @precondition(lambda self: self.ids)
        @rule(pick=st.integers(0, 100))
        def check_in(self, pick):
            registration_id = self.ids[pick % len(self.ids)]
            stored, modelled = self.step(
                lambda conn: registrations.check_in(conn, self.code[registration_id].lower()),
                lambda now, _: self.book.check_in(registration_id),
            )
            if isinstance(modelled, Conflict):
                assert isinstance(stored, registrations.NotConfirmed)
            else:
                assert stored[1] is modelled

        @invariant()
        def seats_lines_and_statuses_agree(self):
            if not hasattr(self, "loop"):
                return
            rows = self.run(
                self.pool.fetch(
                    "SELECT id, session_id, status, attended_at IS NOT NULL AS attended FROM registrations"
                    " WHERE session_id = ANY($1::uuid[]) ORDER BY waitlist_seq, created_at",
                    self.sessions,
                )
            )
            assert {r["id"]: (r["status"], r["attended"]) for r in rows} == {
                r.id: (r.status, r.attended) for r in self.book.registrations.values()
            }
            counters = self.run(
                self.pool.fetch(
                    "SELECT id, status, capacity, seats_taken, waiting FROM sessions WHERE id = ANY($1::uuid[])",
                    self.sessions,
                )
            )
            for c in counters:
                session = self.book.sessions[c["id"]]
                line = [r["id"] for r in rows if r["session_id"] == c["id"] and r["status"] == "waitlisted"]
                assert line == session.line
                assert (c["status"], c["capacity"], c["seats_taken"], c["waiting"]) == (
                    session.status,
                    session.capacity,
                    len(session.seated),
                    len(session.line),
                )

    return Agreement


def test_random_operations_give_the_same_outcomes_in_postgres_and_in_the_pure_core(infra, registration_pool):
    agreement = storage_agrees_with_the_core(infra["REGISTRATION_DATABASE_URL"])
    run_state_machine_as_test(agreement, settings=settings(max_examples=25, stateful_step_count=25, deadline=None))
