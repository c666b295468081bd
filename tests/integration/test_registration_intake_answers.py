"""The intake always answers: a full line, a database that goes away mid-batch, a deadline — on real Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from urllib.parse import urlsplit, urlunsplit

from atelier_platform.db import create_pool
from registration.entrypoints.intake import Intake
from registration.service_layer.registrations import Application, NewRegistration
from registration.service_layer.unit_of_work import UnitOfWork
from support.programme import new_session, person


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
async def running(pool, runners: int = 2, **limits):
    intake = Intake(UnitOfWork(pool), public_url="http://test", **limits)
    tasks = [asyncio.create_task(intake.run()) for _ in range(runners)]
    try:
        yield intake
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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


def apply(session_id, who=None) -> Application:
    return Application(session_id, NewRegistration(**(who or person())))


async def test_a_full_line_answers_503_with_retry_after_at_once_and_the_waiting_ones_are_decided(registration_pool):
    session = await new_session(registration_pool, capacity=10)
    intake = Intake(UnitOfWork(registration_pool), public_url="http://test", max_waiting=3)
    waiting = [asyncio.create_task(intake.register(apply(session["id"]))) for _ in range(3)]
    await asyncio.sleep(0)  # the three are in line, nobody deciding yet

    refused = await intake.register(apply(session["id"]))
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
                requests = [asyncio.create_task(intake.register(apply(session["id"]))) for _ in range(30)]
                await until_waiting_on_a_lock(registration_pool)  # a batch is inside take_places()
                await link.cut()
                answers = await asyncio.wait_for(asyncio.gather(*requests), timeout=30)

            await link.open()
            after = await intake.register(apply(session["id"]))
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
