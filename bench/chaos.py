"""`make chaos`: 1,000 registrations over HTTP while every fault of the fault suite happens, in one
run, on a fresh stack of its own (`chaos`, stopped afterwards). Prints a table of what the run left
behind and, last, `lost=… duplicated=… dead_lettered=… overbooked=…`.

Clients retry each request with its Idempotency-Key until it has a final answer. The faults, one
after the other while the requests arrive (ten a second):
an oversized RegisterParticipant command; Kafka SIGKILLed and kept down 45 s (a poison record sent
meanwhile); `pg_ctl stop -m immediate`; every registration worker SIGKILLed; the registration
process SIGKILLed (its relays between publishing and marking sent); ticketing and notifications
members killed and added; the SMTP server SIGKILLed for 20 s; `pg_ctl stop -m fast`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from atelier_devkit import tally
from atelier_devkit.commands import HUGE_NAME, command, send_compressed
from atelier_devkit.fault_stack import FaultStack
from atelier_devkit.traffic import answered, create_sessions, register_all, registrations_for
from atelier_schemas.topics import REGISTRATION_EVENTS

ROOT = Path(__file__).resolve().parents[1]

STACK = "chaos"
REGISTRATIONS = 1_000
SESSIONS, CAPACITY = 10, 90  # 900 seats: the last hundred wait
KAFKA_DOWN, SMTP_DOWN, POSTGRES_DOWN = 45, 20, 5
QUIESCE_TIMEOUT = 900


class Faults:
    """Injects the faults in turn, each once a share of the registrations has its answer."""

    def __init__(self, stack: FaultStack, registrations: list, session_id: str) -> None:
        self.stack = stack
        self.registrations = registrations
        self.session_id = session_id
        self.started = time.monotonic()
        self.log: list[tuple[float, str]] = []
        self.deliberate: set[bytes] = set()  # keys of the records sent to be refused

    def note(self, what: str) -> None:
        self.log.append((time.monotonic() - self.started, what))
        print(f"{self.log[-1][0]:6.1f} s  {what}", flush=True)

    async def when_answered(self, share: int) -> None:
        await answered(self.registrations, share)

    async def run(self) -> None:
        stack = self.stack
        await self.when_answered(30)
        oversized = command(self.session_id, HUGE_NAME)
        self.deliberate.add(oversized.key().encode())
        await send_compressed(stack.bootstrap, oversized)
        self.note("oversized RegisterParticipant command sent")

        await self.when_answered(60)
        producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap, request_timeout_ms=300_000)
        await producer.start()
        await producer.partitions_for(REGISTRATION_EVENTS)
        poison_key = f"poison-{uuid.uuid4()}".encode()
        self.deliberate.add(poison_key)
        stack.kill_kafka()
        self.note(f"kafka SIGKILLed, down {KAFKA_DOWN} s")
        poison = asyncio.create_task(producer.send_and_wait(REGISTRATION_EVENTS, b"{not json", key=poison_key))
        await asyncio.sleep(KAFKA_DOWN)
        await asyncio.to_thread(stack.start_kafka)
        self.note("kafka back")
        try:
            await asyncio.wait_for(poison, 120)
            self.note("poison record on registration.events")
        finally:
            await producer.stop()

        await self.when_answered(500)
        await self.postgres_restart("immediate")

        await self.when_answered(600)
        killed = stack.services["registration"].kill_workers()
        self.note(f"every registration worker SIGKILLed ({len(killed)})")

        await self.when_answered(700)
        await stack.restart_service("registration")
        self.note("registration process SIGKILLed and started again")

        await self.when_answered(750)
        olds = {name: stack.services[name] for name in ("ticketing", "notifications")}
        extra = await asyncio.gather(*(stack.start_service(name) for name in olds))
        self.note("a second ticketing and notifications member added")
        await asyncio.gather(*(old.kill() for old in olds.values()))
        stack.services.update(zip(olds, extra, strict=True))
        self.note("the first ticketing and notifications members SIGKILLed")

        await self.when_answered(800)
        stack.kill_smtp()
        self.note(f"smtp SIGKILLed, down {SMTP_DOWN} s")
        await asyncio.sleep(SMTP_DOWN)
        await asyncio.to_thread(stack.start_smtp)
        self.note("smtp back")

        await self.when_answered(900)
        await self.postgres_restart("fast")

    async def postgres_restart(self, mode: str) -> None:
        await asyncio.to_thread(self.stack.stop_postgres, mode)
        self.note(f"postgres stopped -m {mode}, down {POSTGRES_DOWN} s")
        await asyncio.sleep(POSTGRES_DOWN)
        await asyncio.to_thread(self.stack.start_postgres)
        self.note("postgres back")


async def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # our own clients retry through the outages
    stack = FaultStack(STACK, ROOT / ".local" / "stacks" / STACK / "logs")
    stack.fresh()
    stack.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        await stack.start_services(registration={"REGISTRATION_WORKERS": "2"})
        rows, summary = await run(stack)
    finally:
        await stack.stop_services()
        stack.down()
    print_table(rows)
    print(summary)


async def run(stack: FaultStack) -> tuple[list[tuple[str, str]], str]:
    env, url = stack.env, stack.services["registration"].url
    since = await tally.baseline(env)
    sessions = await create_sessions(url, env["REGISTRATION_ADMIN_TOKEN"], SESSIONS, CAPACITY)
    registrations = registrations_for(sessions, REGISTRATIONS)
    faults = Faults(stack, registrations, sessions[0])
    traffic = asyncio.create_task(register_all(url, registrations, per_second=10, concurrency=60, give_up_after=900))
    await asyncio.gather(traffic, faults.run())
    faults.note("every request answered")
    accepted = [r.registration_id for r in registrations if r.status == 201]

    async def take() -> tally.Tally:
        expected = await tally.expected_from_registrations(env, accepted)
        return await tally.count(
            env,
            since,
            expected,
            accepted=accepted,
            session_ids=sessions,
            ignore_dead_letter_keys=frozenset(faults.deliberate),
        )

    outcome, quiesce = await tally.settle(take, timeout=QUIESCE_TIMEOUT)
    deliberate = [r for r in await tally.dead_letters(env, since) if r.key in faults.deliberate]
    unanswered = sum(r.unanswered for r in registrations)
    rows = [
        ("registrations sent", f"{REGISTRATIONS}"),
        ("accepted (201)", f"{outcome.accepted}"),
        ("without a final answer", f"{sum(r.status is None for r in registrations)}"),
        ("attempts left unanswered (30 s)", f"{unanswered}"),
        ("attempts retried", f"{sum(len(r.attempts) - 1 for r in registrations)}"),
        ("registration rows", f"{outcome.rows} ({outcome.confirmed} confirmed, {outcome.waitlisted} waitlisted)"),
        ("vouchers", f"{outcome.vouchers} (missing {outcome.missing_vouchers})"),
        *[(f"emails: {kind}", f"{n}") for kind, n in sorted(outcome.emails_by_kind.items())],
        ("emails / distinct Message-IDs", f"{outcome.emails} / {outcome.distinct_message_ids}"),
        ("emails missing / doubled (another Message-ID)", f"{outcome.missing_emails} / {outcome.duplicate_emails}"),
        ("emails resent (same Message-ID)", f"{outcome.resent_copies}"),
        ("messages failed", f"{outcome.failed_messages}"),
        ("dead letters (real work)", f"{outcome.dead_letters}"),
        ("dead letters (poison and oversized, expected)", f"{len(deliberate)}"),
        ("unsent outbox rows", f"{outcome.unsent_outbox}"),
        ("quarantined outbox rows", f"{outcome.quarantined_outbox}"),
        ("overbooked seats", f"{outcome.overbooked}"),
        ("seats not matching rows", f"{outcome.seats_not_matching_rows}"),
        ("time to quiesce after the last answer", f"{quiesce:.1f} s" + ("" if outcome.complete else " (timed out)")),
    ]
    return rows, outcome.summary()


def print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
