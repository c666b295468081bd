"""HTTP registrations decided in batches, on real Postgres: each answer as if decided alone, and always one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from atelier_platform.db import create_pool
from registration.entrypoints.intake import Intake
from registration.service_layer.registrations import Application, NewRegistration
from registration.service_layer.unit_of_work import UnitOfWork
from support.links import TEST_LINKS
from support.programme import new_session, person


@contextlib.asynccontextmanager
async def running(pool, runners: int = 2, **limits):
    intake = Intake(UnitOfWork(pool), links=TEST_LINKS, **limits)
    tasks = [asyncio.create_task(intake.run()) for _ in range(runners)]
    try:
        yield intake
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def apply(session_id, who: dict, **fields) -> Application:
    return Application(session_id, NewRegistration(**who), **fields)


def answer(response) -> tuple[int, dict]:
    return response.status, response.body


async def test_200_requests_at_once_share_transactions_and_fill_25_seats_then_a_fifo_line(registration_pool):
    session = await new_session(registration_pool, capacity=25)
    async with running(registration_pool, runners=1) as intake:  # one batch after the other: arrival order holds
        responses = await asyncio.gather(
            *(intake.register(apply(session["id"], person(n), correlation_id=f"corr-{n}")) for n in range(200))
        )

    answers = [answer(r) for r in responses]
    assert {status for status, _ in answers} == {201}
    confirmed = [body for _, body in answers if body["status"] == "confirmed"]
    positions = sorted(body["waitlist_position"] for _, body in answers if body["status"] == "waitlisted")
    assert len(confirmed) == 25 and positions == list(range(1, 176))
    assert [body["status"] for _, body in answers[:25]] == ["confirmed"] * 25
    transactions = await registration_pool.fetchval(
        "SELECT count(DISTINCT xmin::text) FROM registrations WHERE session_id = $1", session["id"]
    )
    assert transactions < 20  # batched, not one transaction per request
    # Each event carries the correlation id of its own request, though decided together.
    rows = await registration_pool.fetch(
        "SELECT key, headers FROM outbox WHERE key = ANY($1::text[])", [body["registration_id"] for _, body in answers]
    )
    correlation_of = {r["key"]: json.loads(r["headers"])["ce_correlationid"] for r in rows}
    assert [correlation_of[body["registration_id"]] for _, body in answers] == [f"corr-{n}" for n in range(200)]


async def test_a_refusal_in_a_batch_refuses_only_its_own_request(registration_pool):
    session = await new_session(registration_pool, capacity=10)
    twice = person("twice")
    applications = [
        apply(session["id"], person(1)),
        apply(uuid.uuid4(), person(2)),
        apply(session["id"], twice),
        apply(session["id"], {**twice, "email": twice["email"].upper()}),
        apply(session["id"], person(3)),
    ]
    async with running(registration_pool) as intake:
        answers = [answer(r) for r in await asyncio.gather(*(intake.register(a) for a in applications))]

    assert [status for status, _ in answers] == [201, 404, 201, 409, 201]
    assert answers[1][1] == {"detail": "this session does not exist"}
    assert "already holds a registration" in answers[3][1]["detail"]
    stored = await registration_pool.fetchval("SELECT count(*) FROM registrations WHERE session_id = $1", session["id"])
    assert stored == 3


async def test_requests_sharing_an_idempotency_key_register_once_and_replay_the_first_answer(registration_pool):
    session = await new_session(registration_pool)
    key, digest = f"key-{uuid.uuid4()}", b"request-1"
    who = person("keyed")
    async with running(registration_pool) as intake:
        responses = await asyncio.gather(*(intake.register(apply(session["id"], who), key, digest) for _ in range(5)))
        mismatch = await intake.register(apply(session["id"], person("other")), key, b"request-2")

    assert mismatch.status == 422 and mismatch.body["detail"][0]["type"] == "idempotency_key_reused"
    assert [answer(r) for r in responses] == [answer(responses[0])] * 5 and responses[0].status == 201
    assert sorted("true" if r.replayed else "first" for r in responses) == ["first"] + ["true"] * 4
    stored = await registration_pool.fetchval("SELECT count(*) FROM registrations WHERE session_id = $1", session["id"])
    assert stored == 1


async def test_a_failing_batch_is_decided_again_one_by_one(registration_pool):
    """A database error (here a NOT NULL violation) fails only the request that caused it."""
    session = await new_session(registration_pool, capacity=10)
    broken = Application(session["id"], NewRegistration(name=None, email="broken@example.be", language="fr"))
    async with running(registration_pool, runners=1) as intake:
        outcomes = await asyncio.gather(
            *(intake.register(apply(session["id"], person(n))) for n in range(3)),
            intake.register(broken),
            *(intake.register(apply(session["id"], person(n))) for n in range(3, 6)),
            return_exceptions=True,
        )

    assert isinstance(outcomes[3], asyncpg.NotNullViolationError)
    assert [answer(r)[0] for r in outcomes[:3] + outcomes[4:]] == [201] * 6
    seats = await registration_pool.fetchval("SELECT seats_taken FROM sessions WHERE id = $1", session["id"])
    assert seats == 6


async def test_two_intakes_at_once_give_each_person_one_of_three_overlapping_sessions(registration_pool):
    """As two service processes would: the same people, the same sessions, no deadlock and no double place."""
    first = await new_session(registration_pool, capacity=30)
    sessions = [first] + [
        await new_session(registration_pool, capacity=30, starts=first["starts_at"] + timedelta(minutes=m))
        for m in (30, 60)
    ]
    people = [person(n) for n in range(40)]
    async with running(registration_pool) as one, running(registration_pool) as other:
        outcomes = await asyncio.gather(
            *(intake.register(apply(s["id"], who)) for who in people for s in sessions for intake in (one, other)),
            return_exceptions=True,
        )

    assert {answer(r)[0] for r in outcomes} == {201, 409}
    held = await registration_pool.fetch(
        "SELECT email, count(*) AS places FROM registrations WHERE session_id = ANY($1::uuid[])"
        " AND status IN ('confirmed', 'waitlisted') GROUP BY email",
        [s["id"] for s in sessions],
    )
    assert len(held) == 40 and {r["places"] for r in held} == {1}
    taken = await registration_pool.fetchval(
        "SELECT sum(seats_taken + waiting) FROM sessions WHERE id = ANY($1::uuid[])", [s["id"] for s in sessions]
    )
    assert taken == 40


class CuttableLink:
    """A TCP relay to Postgres that can be cut (every connection reset, new ones refused) and mended."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _relay(self, client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.target)
        self.writers |= {client_writer, server_writer}

        async def pipe(reader, writer):
            with contextlib.suppress(OSError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(
        parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}" if parts.username else f"127.0.0.1:{port}")
    )


@contextlib.asynccontextmanager
async def session_locked(pool, session_id):
    """Holds the session row, as a long transaction would: batches for it wait."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT FROM sessions WHERE id = $1 FOR UPDATE", session_id)
        yield


async def until_waiting_on_a_lock(pool, count: int = 1) -> None:
    while (
        await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%take_places%'"
        )
        < count
    ):
        await asyncio.sleep(0.02)


async def test_a_full_line_answers_503_with_retry_after_at_once_and_the_waiting_ones_are_decided(registration_pool):
    session = await new_session(registration_pool, capacity=10)
    intake = Intake(UnitOfWork(registration_pool), links=TEST_LINKS, max_waiting=3)
    waiting = [asyncio.create_task(intake.register(apply(session["id"], person()))) for _ in range(3)]
    await asyncio.sleep(0)  # the three are in line, nobody deciding yet

    refused = await intake.register(apply(session["id"], person()))
    runner = asyncio.create_task(intake.run())
    try:
        decided = await asyncio.gather(*waiting)
    finally:
        runner.cancel()

    assert refused.status == 503 and refused.headers == {"Retry-After": "1"}
    assert [a.status for a in decided] == [201] * 3
    seats = await registration_pool.fetchval("SELECT seats_taken FROM sessions WHERE id = $1", session["id"])
    assert seats == 3


async def test_a_database_cut_off_during_a_batch_answers_every_request_503_and_the_intake_keeps_working(
    infra, registration_pool
):
    session = await new_session(registration_pool, capacity=50)
    target = urlsplit(infra["REGISTRATION_DATABASE_URL"])
    link = CuttableLink(target.hostname, target.port)
    await link.open()
    pool = await create_pool(via(infra["REGISTRATION_DATABASE_URL"], link.port), max_size=4)
    try:
        async with running(pool) as intake:
            async with session_locked(registration_pool, session["id"]):
                requests = [asyncio.create_task(intake.register(apply(session["id"], person()))) for _ in range(30)]
                await until_waiting_on_a_lock(registration_pool)  # a batch is inside take_places()
                await link.cut()
                answers = await asyncio.wait_for(asyncio.gather(*requests), timeout=30)

            await link.open()
            after = await intake.register(apply(session["id"], person()))
    finally:
        await pool.close()
        await link.cut()

    assert {a.status for a in answers} == {503}
    assert all(a.headers == {"Retry-After": "1"} for a in answers)
    assert after.status == 201 and after.body["status"] == "confirmed"
    rows = await registration_pool.fetch("SELECT id FROM registrations WHERE session_id = $1", session["id"])
    assert [r["id"] for r in rows] == [uuid.UUID(after.body["registration_id"])]  # nothing of the cut batch stayed


async def test_a_request_past_its_deadline_answers_503_and_its_key_later_gives_the_outcome(registration_pool):
    session = await new_session(registration_pool, capacity=10)
    key, who = f"key-{uuid.uuid4()}", person("late")
    async with running(registration_pool, deadline_seconds=0.3) as intake:
        async with session_locked(registration_pool, session["id"]):
            late = await intake.register(apply(session["id"], who), key, b"request")
        await until_decided(registration_pool, key)
        again = await intake.register(apply(session["id"], who), key, b"request")

    assert late.status == 503 and late.headers == {"Retry-After": "1"}
    assert again.status == 201 and again.replayed


async def until_decided(pool, key: str) -> None:
    while not await pool.fetchval("SELECT status_code IS NOT NULL FROM idempotency_keys WHERE key = $1", key):
        await asyncio.sleep(0.02)
