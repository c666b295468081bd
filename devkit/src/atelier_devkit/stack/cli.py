"""The launcher's commands: up, down, wipe, env, status."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from collections.abc import Callable
from functools import partial

from .infra import start_infra
from .kafka import kafka_healthy, kafka_marker
from .postgres import postgres_healthy, postgres_running, remove_postgres_cluster, stop_postgres
from .processes import Recorded, is_running, stop_processes
from .services import SERVICES, service_healthy, service_marker, start_services
from .smtp import maildir, smtp_healthy
from .state import HOST, StackError, State, env_path, load_state, save_state, stack_dir, state_path

USAGE = "python deploy/local/stack.py"


def up(name: str, infra_only: bool) -> None:
    state = load_state(name)
    env = start_infra(name, state)
    if not infra_only:
        env.update(start_services(name, state, env))
    exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())
    env_path(name).write_text(exports)
    env_path(name).chmod(0o600)
    print()
    print(exports, end="")
    if name == "dev":
        print("stop it with: make down")
    else:
        print(f"stop it with: {USAGE} down --name {name}")


def recorded_processes(name: str, state: State) -> list[Recorded]:
    services = state.get("services", {})
    return [
        *[(svc, services[svc].get("pid"), service_marker(svc)) for svc in SERVICES if svc in services],
        ("smtp", state.get("smtp", {}).get("pid"), str(maildir(name))),
        ("kafka", state.get("kafka", {}).get("pid"), kafka_marker(name)),
    ]


def down(name: str) -> None:
    if not state_path(name).exists():
        print(f"no stack '{name}'")
        return
    state = load_state(name)
    processes = recorded_processes(name, state)
    stop_processes([entry for entry in processes if entry[0] in SERVICES])  # first: no errors about vanished infra
    stop_processes([entry for entry in processes if entry[0] not in SERVICES])
    stop_postgres(state.get("postgres", {}))
    leftovers = [label for label, pid, marker in processes if is_running(pid, marker)]
    if postgres_running(state.get("postgres", {})):
        leftovers.append("postgres")
    if leftovers:
        raise StackError(f"still running: {', '.join(leftovers)}")
    for record in [state.get(key, {}) for key in ("kafka", "postgres", "smtp")] + list(
        state.get("services", {}).values()
    ):
        record.pop("pid", None)  # ports and token stay, for the next up
    save_state(name, state)
    env_path(name).unlink(missing_ok=True)
    print(f"stack '{name}' is down")


def wipe(name: str) -> None:
    """Down, then forgotten: its Postgres cluster and its state dir (Kafka's data, maildir, logs, state)."""
    down(name)
    remove_postgres_cluster(load_state(name))
    shutil.rmtree(stack_dir(name), ignore_errors=True)


def print_env(name: str) -> None:
    if not env_path(name).exists():
        raise StackError(f"stack '{name}' is not up; start it with: {USAGE} up --name {name}")
    print(env_path(name).read_text(), end="")


def status(name: str) -> bool:
    """Print one line per component; True when every started component is healthy."""
    state = load_state(name) if state_path(name).exists() else {}
    checks: dict[str, Callable[[State], bool]] = {
        "kafka": lambda record: kafka_healthy(name, record),
        "postgres": postgres_healthy,
        "smtp": lambda record: smtp_healthy(name, record),
    }
    for service in SERVICES:
        checks[service] = partial(service_healthy, service)
    all_healthy = True
    for component, healthy in checks.items():
        record = state.get(component, state.get("services", {}).get(component))
        if not record or not record.get("pid"):
            print(f"{component:<14} stopped")
            continue
        ok = healthy(record)
        all_healthy = all_healthy and ok
        print(f"{component:<14} {'healthy' if ok else 'DOWN':<8} {HOST}:{record['port']} pid {record['pid']}")
    return all_healthy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=USAGE, description="Run the Atelier stack on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("up", "down", "wipe", "env", "status"):
        sub = commands.add_parser(command)
        sub.add_argument("--name", default="dev", help="stack name (default: dev)")
        if command == "up":
            sub.add_argument("--infra-only", action="store_true", help="Kafka, Postgres and SMTP only")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up(args.name, args.infra_only)
        elif args.command == "down":
            down(args.name)
        elif args.command == "wipe":
            wipe(args.name)
        elif args.command == "env":
            print_env(args.name)
        elif not status(args.name):
            return 1
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
