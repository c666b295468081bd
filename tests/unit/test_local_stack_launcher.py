"""The local stack launcher: a process it started stays recorded until it is stopped, it never runs a
second copy beside a live one, and a restart keeps the previous log."""

from __future__ import annotations

import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from atelier_devkit.stack.processes import (
    EPHEMERAL_RANGE,
    free_port,
    is_running,
    previous_log,
    reap,
    reuse_or_stop,
    signal_process,
    spawn,
    wait_until,
)
from atelier_devkit.stack.services import reusable, service_marker

SLEEPER = "import time; time.sleep(120)"


@pytest.fixture
def sleepers(tmp_path: Path) -> Iterator[list[int]]:
    """PIDs of started stand-in processes; whatever a test leaves running is killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        signal_process(pid, 9)
        reap(pid)


def start_sleeper(tmp_path: Path, marker: str, pids: list[int]) -> int:
    pid = spawn([sys.executable, "-c", SLEEPER, marker], tmp_path / f"{uuid.uuid4().hex}.log")
    pids.append(pid)
    assert wait_until(lambda: is_running(pid, marker), 5)
    return pid


def test_a_recorded_process_alive_but_never_ready_is_stopped_so_no_second_copy_runs_beside_it(
    tmp_path: Path, sleepers: list[int]
) -> None:
    marker = f"never-ready-{uuid.uuid4().hex}"
    pid = start_sleeper(tmp_path, marker, sleepers)

    reuse = reuse_or_stop("registration", pid, marker, ready=lambda: False, timeout=0.5)

    assert reuse is False
    assert not is_running(pid, marker)


def test_a_recorded_process_still_starting_is_waited_for_and_kept(tmp_path: Path, sleepers: list[int]) -> None:
    marker = f"slow-start-{uuid.uuid4().hex}"
    pid = start_sleeper(tmp_path, marker, sleepers)
    ready_at = time.monotonic() + 0.5

    reuse = reuse_or_stop("ticketing", pid, marker, ready=lambda: time.monotonic() > ready_at, timeout=10)

    assert reuse is True
    assert is_running(pid, marker)


def test_a_recorded_process_that_is_gone_is_not_reused() -> None:
    assert reuse_or_stop("smtp", None, "no-such-marker", ready=lambda: True, timeout=0.1) is False


def test_a_service_from_older_code_is_stopped_before_its_record_is_replaced(
    tmp_path: Path, sleepers: list[int]
) -> None:
    pid = start_sleeper(tmp_path, service_marker("notifications"), sleepers)
    record = {"pid": pid, "port": 1, "code_version": "old", "workers": "1"}

    assert reusable("notifications", record, version="new", workers="1", ready_timeout=5) is False
    assert not is_running(pid, service_marker("notifications"))


def test_a_restarted_process_keeps_the_previous_log_beside_its_new_one(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "registration.log"
    for run in ("first run: crashed", "second run"):
        pid = spawn([sys.executable, "-c", f"print({run!r})"], log)
        assert wait_until(lambda pid=pid: (reap(pid), not is_running(pid, ""))[1], 10)

    assert log.read_text().strip() == "second run"
    assert previous_log(log).read_text().strip() == "first run: crashed"


def test_a_free_port_for_a_server_lies_below_the_ports_of_outgoing_connections():
    """Any connection opened meanwhile could take a port of that range before the server binds it."""
    first_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0])
    ports = {free_port() for _ in range(20)}
    assert all(port < first_ephemeral for port in ports)
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
            sock.bind(("127.0.0.1", port))  # nothing listens there
