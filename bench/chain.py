"""`make bench`: the whole chain as a participant feels it, from "register" to the voucher in the inbox.

On a fresh stack of its own (Kafka, durable Postgres, SMTP, the three services), stopped afterwards:

- burst: N registrations at once over 100 sessions, every one asking for a voucher from a real station
  (ticketing's station list), languages fr/nl/en in turn → accepted per second, seconds until the last
  voucher row, until every confirmation email and every voucher email is in the SMTP server's maildir;
- paced: a steady rate of registrations → seconds from sending the request to the voucher email's
  arrival (matched by its Message-ID in notifications' message log), p50 / p95 / p99;
- CPU seconds each process (and its children: every Postgres backend) used over each scenario, and
  Postgres' split by the database its backends served;
- alone: N registrations with ticketing and notifications stopped, then each of them started in turn on
  the backlog → each stage's own rate; then N RegisterParticipant commands waiting on
  `registration.commands` for registration alone → the rate of its own consumer;
- the raw floor, measured afterwards with the services stopped: Kafka produce → consume, Postgres
  inserting one durable row per transaction, the SMTP server taking mail from smtplib over 4
  connections — the same counts and sizes — and each stage's ratio (in the burst, and alone) to the
  slowest floor it goes through.

Prints tables, writes bench/results/<date>-<N>.json and a .png chart beside it.

    .venv/bin/python bench/chain.py [--registrations 10000] [--paced-rate 100] [--paced-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import time
import uuid
from collections.abc import Collection
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

import aiohttp
import asyncpg
import chart
import cpu
import floors
import uvloop
from atelier_devkit.stack.cli import down
from atelier_devkit.stack.processes import stop_processes
from atelier_devkit.stack.services import service_marker, start_services
from atelier_devkit.stack.state import load_state
from atelier_schemas import Participant, RegisterParticipant
from atelier_schemas.topics import REGISTRATION_COMMANDS
from atelier_schemas.vocabulary import LANGUAGES
from measures import cumulative, percentile, ratio_to_floor, span_rate
from stacks import CONCURRENCY, connector, fresh_stack, new_sessions, post, print_table, send_all

STACK = "chain-bench"
RESULTS = Path(__file__).resolve().parent / "results"
SESSIONS = 100
CHAIN = ("registration", "ticketing", "notifications")  # the web pages serve no part of it
DOWNSTREAM = CHAIN[1:]
# Production runs at least two of each (deploy/k8s: registration's two replicas, KEDA's minimum for
# ticketing and notifications): here two processes each. `<SERVICE>_WORKERS` set by hand wins.
PROCESSES = 2
CONFIRMATION, VOUCHER = "registration_confirmed", "voucher_issued"
STEP = 0.5  # seconds between the points of a timeline
# From the request to the voucher email in the mailbox, one stage after the other. Database times are
# transaction starts: a stage ends when the transaction that does its work begins.
STAGE_SPANS = (
    "request → seat decided (registration)",
    "seat decided → voucher row (ticketing)",
    "voucher row → voucher email queued (notifications)",
    "queued → claimed for sending (behind the confirmation, the queue)",
    "claimed → in the mailbox (build, SMTP)",
)
TARGETS = {"burst_all_emails_s": 60.0, "paced_p99_s": 1.0, "floor_ratio": 0.5}
# The raw parts each stage goes through: its ratio is taken to the slowest of them. The door is not a
# consumer: its target is to be no slower than before (`make bench-registration`); its ratio is shown.
DOOR = "registration (accepted)"
COMMANDS = "registration (commands)"
STAGES = {
    DOOR: ("postgres",),
    COMMANDS: ("kafka", "postgres"),
    "ticketing (vouchers)": ("kafka", "postgres"),
    "notifications (emails)": ("kafka", "postgres", "smtp"),
}
CONSUMERS = [stage for stage in STAGES if stage != DOOR]
FLOOR_WORK = {
    "kafka": "aiokafka produce → consume, acks=all",
    "postgres": "one durable transaction per row, 4 connections",
    "smtp": "smtplib, 4 connections",
}


class Chain:
    """The running stack as the benchmark sees it: HTTP client, databases, maildir, processes."""

    def __init__(self, env: dict[str, str], client: aiohttp.ClientSession, stations: list[str]) -> None:
        self.env, self.client, self.stations = env, client, stations
        self.maildir = Path(env["SMTP_MAILDIR"]) / "new"

    def processes(self) -> dict[str, int]:
        state = load_state(STACK)
        return {
            **{name: state["services"][name]["pid"] for name in CHAIN},
            "kafka": state["kafka"]["pid"],
            "postgres": state["postgres"]["pid"],
            "smtp": state["smtp"]["pid"],
            "client": os.getpid(),
        }

    async def register(self, session_id: str, n: int) -> dict:
        sent_at = time.time()
        status, body = await post(
            self.client,
            f"/sessions/{session_id}/registrations",
            {
                "name": f"Bench {n}",
                "email": f"bench-{uuid.uuid4().hex}@example.be",
                "language": LANGUAGES[n % len(LANGUAGES)],
                "wants_voucher": True,
                "origin_station_id": self.stations[n % len(self.stations)],
            },
        )
        return {
            "sent_at": sent_at,
            "answered_at": time.time(),
            "status": body.get("status") if status == 201 else str(status),
            "registration_id": body.get("registration_id"),
        }

    async def decided(self, ids: list[str]) -> dict[str, float]:
        """When registration's intake decided each registration (its transaction's start)."""
        rows = await self._fetch(
            "REGISTRATION_DATABASE_URL",
            "SELECT id::text, extract(epoch FROM created_at) AS at FROM registrations WHERE id = ANY($1::uuid[])",
            ids,
        )
        return {row["id"]: float(row["at"]) for row in rows}

    async def commands_decided(self, command_ids: list[str]) -> list[float]:
        """When registration's consumer decided each of these commands that it registered (its transaction's start)."""
        rows = await self._fetch(
            "REGISTRATION_DATABASE_URL",
            "SELECT extract(epoch FROM created_at) AS at FROM registrations WHERE command_id = ANY($1::uuid[])",
            command_ids,
        )
        return [float(row["at"]) for row in rows]

    def mail_files(self) -> set[str]:
        return set(os.listdir(self.maildir)) if self.maildir.exists() else set()

    async def vouchers(self, ids: list[str]) -> dict[str, float]:
        rows = await self._fetch(
            "TICKETING_DATABASE_URL",
            "SELECT registration_id::text, extract(epoch FROM issued_at) AS at FROM vouchers"
            " WHERE registration_id = ANY($1::uuid[])",
            ids,
        )
        return {row["registration_id"]: float(row["at"]) for row in rows}

    async def emails(self, ids: list[str], files: set[str]) -> list[dict]:
        """The emails among `files` sent for `ids`: registration, kind, when notifications queued it and claimed
        it for sending (its sending round's start), arrival (when the maildir got it), size."""
        rows = await self._fetch(
            "NOTIFICATIONS_DATABASE_URL",
            "SELECT message_id, kind, registration_id::text, extract(epoch FROM created_at) AS queued,"
            " extract(epoch FROM sent_at) AS claimed FROM messages WHERE registration_id = ANY($1::uuid[])",
            ids,
        )
        ours = {row["message_id"]: row for row in rows}
        found = []
        parser = BytesHeaderParser()
        for name in files:
            path = self.maildir / name
            with path.open("rb") as message:
                row = ours.get(parser.parse(message)["Message-ID"])
            if row is not None:
                stat = path.stat()
                found.append(
                    {
                        "registration_id": row["registration_id"],
                        "kind": row["kind"],
                        "queued_at": float(row["queued"]),
                        "claimed_at": float(row["claimed"]),
                        "at": stat.st_mtime,
                        "size": stat.st_size,
                    }
                )
        return found

    async def drained(self, ids: list[str], before: set[str], deadline: float, *, emails: bool = True) -> bool:
        """Wait until every registration has its voucher and (with `emails`) both emails are in the maildir,
        or the deadline."""
        while time.time() < deadline:
            vouchers = await self._fetch(
                "TICKETING_DATABASE_URL", "SELECT 1 FROM vouchers WHERE registration_id = ANY($1::uuid[])", ids
            )
            if len(vouchers) == len(ids) and (not emails or len(self.mail_files() - before) >= 2 * len(ids)):
                return True
            await asyncio.sleep(0.5)
        return False

    async def backends(self) -> dict[int, str]:
        """Postgres' backends serving the services' databases now, by database (this query's own left out)."""
        rows = await self._fetch(
            "REGISTRATION_DATABASE_URL",
            "SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()",
            list(CHAIN),
        )
        return {row["pid"]: row["datname"] for row in rows}

    async def _fetch(self, database: str, query: str, ids: list[str]) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.env[database])
        try:
            return await conn.fetch(query, ids)
        finally:
            await conn.close()


async def run_scenario(chain: Chain, name: str, send, count: int, drain_timeout: float) -> dict:
    """Send `count` registrations with `send`, wait for the chain to drain, and collect every timestamp."""
    token = chain.env["REGISTRATION_ADMIN_TOKEN"]
    sessions = await new_sessions(chain.client, token, SESSIONS, math.ceil(count / SESSIONS))
    before_files = chain.mail_files()
    pids = chain.processes()
    cpu_before, backends_before = cpu.snapshot(pids), cpu.own_seconds(await chain.backends())
    started = time.time()
    sent = await send(chain, sessions, count)
    confirmed = [r["registration_id"] for r in sent if r["status"] == "confirmed"]
    complete = await chain.drained(confirmed, before_files, time.time() + drain_timeout)
    backends = await chain.backends()
    cpu_after, backends_after = cpu.snapshot(pids), cpu.own_seconds(backends)
    cpu_seconds = {name: round(cpu_after[name] - cpu_before[name], 2) for name in pids}
    decided = await chain.decided(confirmed)
    vouchers = await chain.vouchers(confirmed)
    emails = await chain.emails(confirmed, chain.mail_files() - before_files)
    return {
        "name": name,
        "started": started,
        "registrations": count,
        "confirmed": len(confirmed),
        "refused": sum(1 for r in sent if r["status"] not in ("confirmed", "waitlisted")),
        "drained": complete,
        "sent": sent,
        "decided": decided,
        "vouchers": vouchers,
        "emails": emails,
        "cpu_seconds": cpu_seconds,
        "postgres_cpu_seconds_by_database": cpu.split_by_label(
            backends_before, backends_after, backends, cpu_seconds["postgres"]
        ),
    }


async def run_alone(chain: Chain, count: int, drain_timeout: float) -> dict:
    """Each stage alone on a backlog, so that its rate is its own and not what reaches it: `count`
    registrations at once with ticketing and notifications stopped, then ticketing started on the
    registration events waiting, then, every voucher issued, notifications on all the events waiting."""
    stop_services(DOWNSTREAM)
    sessions = await new_sessions(
        chain.client, chain.env["REGISTRATION_ADMIN_TOKEN"], SESSIONS, math.ceil(count / SESSIONS)
    )
    before_files = chain.mail_files()
    sent = await burst(chain, sessions, count)
    confirmed = [r["registration_id"] for r in sent if r["status"] == "confirmed"]
    deadline = time.time() + drain_timeout
    start_service("ticketing", chain.env)
    issued = await chain.drained(confirmed, before_files, deadline, emails=False)
    start_service("notifications", chain.env)
    complete = issued and await chain.drained(confirmed, before_files, deadline)
    vouchers = await chain.vouchers(confirmed)
    emails = await chain.emails(confirmed, chain.mail_files() - before_files)
    commands = await commands_alone(chain, count, deadline)
    return {
        "registrations": count,
        "confirmed": len(confirmed),
        "drained": complete and commands is not None,
        "rates_per_s": {
            DOOR: span_rate([r["answered_at"] for r in sent]),
            COMMANDS: None if commands is None else span_rate(commands),
            "ticketing (vouchers)": span_rate(list(vouchers.values())),
            "notifications (emails)": span_rate([e["at"] for e in emails]),
        },
    }


async def commands_alone(chain: Chain, count: int, deadline: float) -> list[float] | None:
    """Registration's consumer alone on `count` RegisterParticipant commands sent while every service was
    stopped: when each registration was decided (its transaction's start), or None if not all by `deadline`."""
    sessions = await new_sessions(
        chain.client, chain.env["REGISTRATION_ADMIN_TOKEN"], SESSIONS, math.ceil(count / SESSIONS)
    )
    stop_services()
    command_ids = await send_commands(chain, sessions, count)
    start_service("registration", chain.env)
    while time.time() < deadline:
        decided = await chain.commands_decided(command_ids)
        if len(decided) == count:
            return decided
        await asyncio.sleep(0.5)
    return None


async def send_commands(chain: Chain, sessions: list[str], count: int) -> list[str]:
    """`count` RegisterParticipant commands as another service sends them, every one asking for a voucher."""
    commands = [
        RegisterParticipant(
            command_id=uuid.uuid4(),
            session_id=uuid.UUID(sessions[n % len(sessions)]),
            participant=Participant(
                name=f"Bench {n}", email=f"bench-{uuid.uuid4().hex}@example.be", language=LANGUAGES[n % 3]
            ),
            wants_voucher=True,
            origin_station_id=chain.stations[n % len(chain.stations)],
        )
        for n in range(count)
    ]
    await send_all(chain.env["KAFKA_BOOTSTRAP_SERVERS"], REGISTRATION_COMMANDS, commands)
    return [str(command.command_id) for command in commands]


async def burst(chain: Chain, sessions: list[str], count: int) -> list[dict]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> dict:
        async with gate:
            return await chain.register(sessions[n % len(sessions)], n)

    return await asyncio.gather(*(one(n) for n in range(count)))


def paced_at(rate: float):
    async def paced(chain: Chain, sessions: list[str], count: int) -> list[dict]:
        loop = asyncio.get_running_loop()
        start, tasks = loop.time(), []
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
            tasks.append(asyncio.create_task(chain.register(sessions[n % len(sessions)], n)))
        return await asyncio.gather(*tasks)

    return paced


def summary(run: dict) -> dict:
    """The figures of one scenario, seconds counted from its first request."""
    start = run["started"]
    answered = [r["answered_at"] - start for r in run["sent"]]
    vouchers = [at - start for at in run["vouchers"].values()]
    by_kind = {kind: [e["at"] - start for e in run["emails"] if e["kind"] == kind] for kind in (CONFIRMATION, VOUCHER)}
    emails = [e["at"] - start for e in run["emails"]]
    sent_at = {r["registration_id"]: r["sent_at"] for r in run["sent"]}
    voucher_delays = [e["at"] - sent_at[e["registration_id"]] for e in run["emails"] if e["kind"] == VOUCHER]
    end = max([*answered, *vouchers, *emails])
    return {
        "registrations": run["registrations"],
        "confirmed": run["confirmed"],
        "refused": run["refused"],
        "drained": run["drained"],
        "accepted_per_s": len(answered) / max(answered),
        "last_accepted_s": max(answered),
        "last_voucher_row_s": max(vouchers, default=None),
        "vouchers": len(vouchers),
        "last_confirmation_email_s": max(by_kind[CONFIRMATION], default=None),
        "confirmation_emails": len(by_kind[CONFIRMATION]),
        "last_voucher_email_s": max(by_kind[VOUCHER], default=None),
        "voucher_emails": len(by_kind[VOUCHER]),
        "rates_per_s": {
            "registration (accepted)": span_rate(answered),
            "ticketing (vouchers)": span_rate(vouchers),
            "notifications (emails)": span_rate(emails),
        },
        "request_to_voucher_email_s": {
            f"p{p}": percentile(voucher_delays, p) if voucher_delays else None for p in (50, 95, 99)
        },
        "stages_s": stages(run),
        "cpu_seconds": run["cpu_seconds"],
        "postgres_cpu_seconds_by_database": run["postgres_cpu_seconds_by_database"],
        "timeline": {
            "step_s": STEP,
            "accepted": cumulative(answered, 0.0, STEP, end),
            "vouchers": cumulative(vouchers, 0.0, STEP, end),
            "emails": cumulative(emails, 0.0, STEP, end),
        },
    }


def stages(run: dict) -> dict[str, dict[str, float]]:
    """Where each registration's wait for its voucher email went, stage by stage: p50 / p95 / p99 of
    each. The stages follow one another, so a registration's add up to its request → voucher email."""
    sent_at = {r["registration_id"]: r["sent_at"] for r in run["sent"]}
    spans: dict[str, list[float]] = {stage: [] for stage in STAGE_SPANS}
    for email in run["emails"]:
        registration = email["registration_id"]
        if email["kind"] != VOUCHER or registration not in run["decided"] or registration not in run["vouchers"]:
            continue
        moments = [
            sent_at[registration],
            run["decided"][registration],
            run["vouchers"][registration],
            email["queued_at"],
            email["claimed_at"],
            email["at"],
        ]
        for stage, (start, end) in zip(STAGE_SPANS, itertools.pairwise(moments), strict=True):
            spans[stage].append(end - start)
    return {stage: {f"p{p}": percentile(values, p) for p in (50, 95, 99)} for stage, values in spans.items() if values}


async def measure_floors(chain: Chain, run: dict) -> dict:
    """The same counts and sizes as the burst, through each raw part alone; the services are stopped by now."""
    count = max(run["confirmed"], 1)
    record_size = await asyncpg.connect(chain.env["REGISTRATION_DATABASE_URL"])
    try:
        size = int(await record_size.fetchval("SELECT avg(octet_length(value)) FROM outbox") or 1000)
    finally:
        await record_size.close()
    email_size = int(sum(e["size"] for e in run["emails"]) / max(len(run["emails"]), 1)) or 10_000
    postgres_url = chain.env["REGISTRATION_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    return {
        "record_bytes": size,
        "email_bytes": email_size,
        "per_s": {
            "kafka": await floors.kafka(chain.env["KAFKA_BOOTSTRAP_SERVERS"], count, size),
            "postgres": await floors.postgres(postgres_url, count, size),
            "smtp": await floors.smtp(chain.env["SMTP_HOST"], int(chain.env["SMTP_PORT"]), 2 * count, email_size),
        },
        "counts": {"kafka": count, "postgres": count, "smtp": 2 * count},
    }


def stop_services(only: Collection[str] | None = None) -> None:
    """The stack's services, or those of `only` (as devkit's `start_services` takes them)."""
    services = load_state(STACK)["services"]
    chosen = services if only is None else only
    stop_processes([(name, record["pid"], service_marker(name)) for name, record in services.items() if name in chosen])


def start_service(name: str, env: dict[str, str]) -> None:
    start_services(STACK, load_state(STACK), env, only=(name,))


async def measure(args: argparse.Namespace, env: dict[str, str]) -> dict:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(env["TICKETING_URL"], timeout=timeout) as ticketing:
        async with ticketing.get("/stations", params={"limit": 100}) as response:
            stations = [station["id"] for station in await response.json()]
    async with aiohttp.ClientSession(env["REGISTRATION_URL"], connector=connector(), timeout=timeout) as client:
        chain = Chain(env, client, stations)
        burst_run = await run_scenario(chain, "burst", burst, args.registrations, args.drain_timeout)
        paced_count = round(args.paced_rate * args.paced_seconds)
        paced_run = await run_scenario(chain, "paced", paced_at(args.paced_rate), paced_count, args.drain_timeout)
        alone = await run_alone(chain, args.registrations, args.drain_timeout)
    stop_services()
    floor = await measure_floors(chain, burst_run)
    burst_figures = summary(burst_run)
    ratios = {
        scenario: {
            stage: ratio_to_floor(figures["rates_per_s"].get(stage), floor["per_s"], parts)
            for stage, parts in STAGES.items()
        }
        for scenario, figures in (("burst", burst_figures), ("alone", alone))
    }
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_1_5_15": os.getloadavg()},
        "settings": {
            "registrations": args.registrations,
            "sessions": SESSIONS,
            "in_flight": CONCURRENCY,
            "paced_rate_per_s": args.paced_rate,
            "paced_seconds": args.paced_seconds,
            "processes": {service: int(os.environ[f"{service.upper()}_WORKERS"]) for service in CHAIN},
            "postgres": "durable (fsync, synchronous_commit, full_page_writes on)",
        },
        "targets": TARGETS,
        "burst": burst_figures,
        "paced": summary(paced_run),
        "alone": alone,
        "floor": floor,
        "ratio_to_floor": ratios,
        "note": args.note,
    }


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(result: dict) -> None:
    b, p = result["burst"], result["paced"]
    print(
        f"\nwhole chain, {result['machine']['cores']} cores, durable Postgres, load average "
        f"{' '.join(f'{x:.1f}' for x in result['machine']['load_average_1_5_15'])} at the end"
    )
    processes = ", ".join(f"{service} {count}" for service, count in result["settings"]["processes"].items())
    print(f"processes: {processes}")
    if result["note"]:
        print(f"note: {result['note']}")
    print(f"\nburst: {b['registrations']} registrations, {CONCURRENCY} in flight, {SESSIONS} sessions\n")
    print_table(
        [
            "accepted/s",
            "confirmed",
            "refused",
            "last voucher row s",
            "last confirmation email s",
            "last voucher email s",
            "emails",
            "complete",
        ],
        [
            [
                f"{b['accepted_per_s']:.0f}",
                str(b["confirmed"]),
                str(b["refused"]),
                seconds(b["last_voucher_row_s"]),
                seconds(b["last_confirmation_email_s"]),
                seconds(b["last_voucher_email_s"]),
                f"{b['confirmation_emails'] + b['voucher_emails']} / {2 * b['confirmed']}",
                "yes" if b["drained"] else "NO (timed out)",
            ]
        ],
    )
    settings = result["settings"]
    print(f"\npaced: {settings['paced_rate_per_s']:g}/s for {settings['paced_seconds']:g} s, request → voucher email\n")
    delays = p["request_to_voucher_email_s"]
    print_table(
        ["p50 s", "p95 s", "p99 s", "voucher emails", "complete"],
        [
            [
                seconds(delays["p50"]),
                seconds(delays["p95"]),
                seconds(delays["p99"]),
                f"{p['voucher_emails']} / {p['confirmed']}",
                "yes" if p["drained"] else "NO (timed out)",
            ]
        ],
    )
    print("\nwhere the wait goes, stage by stage: p50 / p99 seconds\n")
    print_table(
        ["stage", "burst", "paced"],
        [[stage, *(stage_figures(r["stages_s"].get(stage)) for r in (b, p))] for stage in STAGE_SPANS],
    )
    print("\nCPU seconds per process (and its children)\n")
    names = list(b["cpu_seconds"])
    print_table(
        ["scenario", *names],
        [[name, *(f"{r['cpu_seconds'][n]:.1f}" for n in names)] for name, r in (("burst", b), ("paced", p))],
    )
    print("\nPostgres' CPU seconds by the database its backends served (other: background work, closed connections)\n")
    databases = list(b["postgres_cpu_seconds_by_database"])
    print_table(
        ["scenario", *databases],
        [
            [name, *(f"{r['postgres_cpu_seconds_by_database'].get(d, 0.0):.1f}" for d in databases)]
            for name, r in (("burst", b), ("paced", p))
        ],
    )
    floor = result["floor"]
    print("\nraw floor, the services stopped: the same counts and sizes through each part alone\n")
    sizes = {"kafka": floor["record_bytes"], "postgres": floor["record_bytes"], "smtp": floor["email_bytes"]}
    print_table(
        ["part", "what", "count", "bytes each", "per s"],
        [
            [part, FLOOR_WORK[part], str(floor["counts"][part]), str(sizes[part]), f"{floor['per_s'][part]:.0f}"]
            for part in FLOOR_WORK
        ],
    )
    print(
        "\neach stage (first to last event) against the slowest part it goes through: in the burst, where it"
        "\ngets what the stage before hands it, and alone on a backlog of as many (complete: "
        f"{'yes' if result['alone']['drained'] else 'NO (timed out)'})\n"
    )
    ratios = result["ratio_to_floor"]
    print_table(
        ["stage", "burst per s", "ratio", "alone per s", "ratio", "floor", "floor per s"],
        [
            [
                stage,
                rate(b["rates_per_s"].get(stage)),
                percent(ratios["burst"][stage]),
                rate(result["alone"]["rates_per_s"][stage]),
                percent(ratios["alone"][stage]),
                " / ".join(parts),
                f"{min(floor['per_s'][part] for part in parts):.0f}",
            ]
            for stage, parts in STAGES.items()
        ],
    )
    print("\ntargets\n")
    alone = [ratios["alone"][stage] for stage in CONSUMERS]
    worst = None if None in alone else min(alone)
    print_table(
        ["target", "measured", "met"],
        [
            ["all of the burst processed ≤ 60 s", seconds(max_or_none(b)), met(max_or_none(b), 60.0, b["drained"])],
            ["paced p99 request → voucher email ≤ 1 s", seconds(delays["p99"]), met(delays["p99"], 1.0, p["drained"])],
            [
                "each consumer alone ≥ 50 % of its floor",
                "-" if worst is None else f"{worst:.0%} (lowest)",
                "yes" if worst is not None and worst >= 0.5 and result["alone"]["drained"] else "no",
            ],
        ],
    )


def rate(per_s: float | None) -> str:
    return "-" if per_s is None else f"{per_s:.0f}"


def percent(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.0%}"


def stage_figures(figures: dict[str, float] | None) -> str:
    return "-" if figures is None else f"{figures['p50']:.2f} / {figures['p99']:.2f}"


def max_or_none(figures: dict) -> float | None:
    ends = [figures[k] for k in ("last_voucher_row_s", "last_confirmation_email_s", "last_voucher_email_s")]
    return None if None in ends else max(ends)


def met(value: float | None, limit: float, complete: bool) -> str:
    return "no" if value is None or not complete else ("yes" if value <= limit else "no")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=10_000, help="burst size (10000)")
    parser.add_argument("--paced-rate", type=float, default=100.0, help="registrations per second (100)")
    parser.add_argument("--paced-seconds", type=float, default=60.0, help="how long the paced run sends (60)")
    parser.add_argument("--drain-timeout", type=float, default=900.0, help="longest wait for a scenario's emails")
    parser.add_argument("--note", default="", help="kept in the result, e.g. what else ran on the machine")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the JSON result and chart")
    args = parser.parse_args()
    for service in CHAIN:
        os.environ.setdefault(f"{service.upper()}_WORKERS", str(PROCESSES))
    env = fresh_stack(STACK)
    try:
        result = uvloop.run(measure(args, env))
    finally:
        down(STACK)
    report(result)
    args.results.mkdir(parents=True, exist_ok=True)
    stem = args.results / f"{datetime.now(UTC):%Y-%m-%dT%H%MZ}-{args.registrations}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    chart.draw(result, stem.with_suffix(".png"))
    print(f"\nresult: {stem.with_suffix('.json')}\nchart:  {stem.with_suffix('.png')}")


if __name__ == "__main__":
    main()
