"""How many messages per second notifications delivers to a local SMTP server. A measurement, not a test.

For each size of the SMTP connection pool: a fresh notifications database holding N queued confirmations (the
events applied through the service's own handlers), a real `python -m notifications` process
started on it, and an SMTP server (aiosmtpd, in this process) that accepts and counts. The rate is
the messages accepted between the first and the last one, per second of that span, and the CPU
the notifications process used per message over the run (steadier than the rate on a shared
machine: it does not count time spent waiting for a core). A last row runs the whole way over
the default pool: N RegistrationConfirmed events published to Kafka, timed from the first publish
to the last message accepted.

A second table times building one email and writing it out for the wire (the CPU of a send that
is not SMTP), for a confirmation and a voucher email queued by the same handlers: the best of 15
rounds over all of them, in this process, so it holds still while the machine drifts.

    .venv/bin/python bench/notifications_throughput.py [--messages 1000] [--connections 1 2 4]

Runs on a `bench` stack of its own (Kafka, Postgres; started if needed, stopped by `make down`),
so the events it publishes never pile up for the test suite's consumers. KAFKA_BOOTSTRAP_SERVERS,
NOTIFICATIONS_DATABASE_URL and NOTIFICATIONS_ADMIN_TOKEN in the environment point it elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import cpu
from atelier_devkit import notification_events as events
from atelier_devkit.databases import notifications_database
from atelier_devkit.handling import handle
from atelier_devkit.notifications_process import NotificationsProcess
from atelier_devkit.publishing import publish
from atelier_devkit.smtp_server import RecordingSmtpServer
from atelier_devkit.stack.infra import ensure_infra
from atelier_devkit.stack.processes import free_port
from atelier_devkit.waiting import eventually
from atelier_platform import sealed
from notifications import qr
from notifications.compose import build_email
from notifications.config import Settings
from notifications.handlers import handlers
from notifications.manage_links import with_manage_link
from notifications.smtp import wire_bytes
from pydantic import SecretStr

NEEDED = ("KAFKA_BOOTSTRAP_SERVERS", "NOTIFICATIONS_DATABASE_URL", "NOTIFICATIONS_ADMIN_TOKEN")


def servers() -> dict[str, str]:
    if all(os.environ.get(name) for name in NEEDED):
        return {name: os.environ[name] for name in NEEDED}
    return ensure_infra("bench")


async def run(infra: dict[str, str], *, messages: int, connections: int, through_kafka: bool, logs: Path) -> dict:
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_bench") as database:
        registrations = [events.confirmed(f"bench-{n}@example.be") for n in range(messages)]
        if not through_kafka:
            by_event = handlers(reminder_before=timedelta(hours=24))
            for registration in registrations:
                await handle(database.pool, by_event, registration)
            # Held back until the process is up, so its start-up is neither timed nor counted as CPU.
            await database.pool.execute("UPDATE messages SET next_attempt_at = now() + interval '1 hour'")
        with RecordingSmtpServer(free_port()) as smtp:
            process = NotificationsProcess(
                infra,
                database_url=database.url,
                smtp_port=smtp.port,
                log=logs / f"notifications-{connections}-{through_kafka}.log",
                smtp_connections=connections,
            )
            await process.start()
            measured = {"notifications": process.pid}
            try:
                started, cpu_before = time.monotonic(), cpu.snapshot(measured)["notifications"]
                if through_kafka:
                    await publish(infra["KAFKA_BOOTSTRAP_SERVERS"], *registrations)
                else:
                    await database.pool.execute("UPDATE messages SET next_attempt_at = now()")
                if not await eventually(lambda: smtp.accepted_count >= messages, timeout=600, interval=0.2):
                    raise RuntimeError(f"only {smtp.accepted_count} of {messages} arrived:\n{process.log_tail()}")
                arrivals = smtp.arrival_times()
                cpu_seconds = cpu.snapshot(measured)["notifications"] - cpu_before
            finally:
                await process.stop()
    first, last = (started if through_kafka else arrivals[0]), arrivals[-1]
    span = last - first
    rate = (messages if through_kafka else messages - 1) / span
    return {
        "connections": connections,
        "path": "Kafka → SMTP" if through_kafka else "queue → SMTP",
        "messages": messages,
        "seconds": span,
        "rate": rate,
        "cpu_ms": cpu_seconds / messages * 1000,
    }


async def build_costs(infra: dict[str, str], count: int) -> dict[str, float]:
    """Milliseconds to build one email and write it out, per kind: the best of 15 rounds over `count` of each."""
    async with notifications_database(infra["NOTIFICATIONS_DATABASE_URL"], "notifications_build") as database:
        by_event = handlers(reminder_before=timedelta(hours=24))
        for n in range(count):
            confirmed = events.confirmed(f"build-{n}@example.be", language=("fr", "nl", "en")[n % 3])
            await handle(database.pool, by_event, confirmed)
            payload = f"ATV1.{secrets.token_urlsafe(160)}"  # a signed payload's length
            await handle(database.pool, by_event, events.ticket_issued(confirmed.registration_id, qr_payload=payload))
        rows = await database.pool.fetch(
            "SELECT m.kind, m.registration_id, m.message_id, m.context, m.created_at, c.name, c.email, c.language"
            " FROM messages m JOIN contacts c USING (registration_id)"
        )
    sender = Settings.model_fields["mail_from"].default
    # As delivery hands them over; these confirmations carry no sealed link, so no key opens one.
    key = SecretStr(sealed.new_private_key_text())
    rows = [with_manage_link(row, key) for row in rows]
    costs = {}
    for kind in sorted({row["kind"] for row in rows}):
        of_kind = [row for row in rows if row["kind"] == kind]
        rounds = []
        for _ in range(15):
            qr.qr_png.cache_clear()  # every voucher's code drawn, as for a first send
            started = time.perf_counter()
            for row in of_kind:
                wire_bytes(build_email(row, sender=sender))
            rounds.append((time.perf_counter() - started) / len(of_kind) * 1000)
        costs[kind] = min(rounds)
    return costs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2, 4], help="SMTP connection pool sizes")
    args = parser.parse_args()
    infra = servers()
    logs = Path(tempfile.mkdtemp(prefix="notifications-bench-"))
    rows = [
        await run(infra, messages=args.messages, connections=size, through_kafka=False, logs=logs)
        for size in args.connections
    ]
    default = Settings.model_fields["smtp_connections"].default
    rows.append(await run(infra, messages=args.messages, connections=default, through_kafka=True, logs=logs))

    print(f"\nnotifications delivery rate ({os.cpu_count()} cores; SMTP server: aiosmtpd on loopback)\n")
    print(f"| {'path':<13} | connections | messages | seconds | messages/s | CPU ms/message |")
    print(f"|{'-' * 15}|-------------|----------|---------|------------|----------------|")
    for row in rows:
        print(
            f"| {row['path']:<13} | {row['connections']:>11} | {row['messages']:>8} | {row['seconds']:>7.1f} "
            f"| {row['rate']:>10.0f} | {row['cpu_ms']:>14.1f} |"
        )
    print("\nbuilding one email and writing it out (best of 15 rounds, this process)\n")
    print("| email                  | ms    |")
    print("|------------------------|-------|")
    for kind, ms in (await build_costs(infra, min(args.messages, 300))).items():
        print(f"| {kind:<22} | {ms:>5.2f} |")
    print(f"\nservice logs: {logs}")


if __name__ == "__main__":
    asyncio.run(main())
