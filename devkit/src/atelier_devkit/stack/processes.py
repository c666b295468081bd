"""The stack's processes: ports, spawning with kept logs, readiness, stopping only what we started."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .state import HOST, REPO, StackError

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
DEV_PORTS = {
    "kafka": 9092,
    "postgres": 5432,
    "smtp": 1025,
    "registration": 8001,
    "ticketing": 8002,
    "notifications": 8003,
    "web": 8000,
}

# A recorded process: (label, pid, marker), the marker being a string its command line contains.
Recorded = tuple[str, int | None, str]


# --- ports -----------------------------------------------------------------


# Ports for our servers come from below the range the kernel hands out to outgoing connections: a
# port from that range, free when chosen, could be taken by any connection opened before the server
# binds it (a Kafka broker, a second or two into its start, found its port in use so).
LISTENING_PORTS_FROM = 20000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A port nothing listens on, outside the range of outgoing connections' ports where there is room."""
    first_ephemeral = int(EPHEMERAL_RANGE.read_text().split()[0]) if EPHEMERAL_RANGE.exists() else 32768
    candidates = range(LISTENING_PORTS_FROM, first_ephemeral)
    for port in random.sample(candidates, min(len(candidates), 100)):
        if port_is_free(port):
            return port
    with socket.socket() as sock:  # no room below that range: any free port
        sock.bind((HOST, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # Servers set SO_REUSEADDR too, so TIME_WAIT leftovers don't count as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def choose_port(name: str, component: str, previous: int | None) -> int:
    """Dev prefers the usual defaults; otherwise keep the stack's previous port so its env stays valid."""
    default = DEV_PORTS.get(component) if name == "dev" else None
    if default and port_is_free(default):
        return default
    port = previous if previous and port_is_free(previous) else free_port()
    if default:
        print(f"port {default} busy, using {port}")
    return port


# --- processes -------------------------------------------------------------


def is_alive(pid: int) -> bool:
    """Exists and has not exited (an exited child not yet reaped is a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_running(pid: int | None, marker: str) -> bool:
    """Alive and still the process we started (PIDs get reused)."""
    if not pid or not is_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return marker in cmdline.replace(b"\0", b" ").decode(errors="replace")


def previous_log(log: Path) -> Path:
    return log.with_name(f"{log.name}.1")


def spawn(cmd: Sequence[str | Path], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a process in its own session so it outlives us and ignores our Ctrl-C. The log of the
    previous run moves to `<log>.1` first: it often holds the crash that made this start necessary."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if log.exists():
        log.replace(previous_log(log))
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(part) for part in cmd],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def run(
    cmd: Sequence[str | Path],
    cwd: Path | str | None = None,
    detach: bool = False,
    env: dict[str, str] | None = None,
) -> str:
    result = subprocess.run(
        [str(part) for part in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        start_new_session=detach,
        env=env,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise StackError(f"{Path(str(cmd[0])).name} failed (exit {result.returncode}):\n{output}")
    return result.stdout


def wait_until(probe: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return probe()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def wait_ready(label: str, pid: int, probe: Callable[[], bool], log: Path) -> None:
    """`pid` is a child we just spawned and have not reaped, so its PID cannot have been reused: checking
    its command line as well once failed while the process was fine."""

    def ready() -> bool:
        if not is_alive(pid):
            raise StackError(f"{label} exited during start-up; last lines of {log}:\n{tail(log)}")
        return probe()

    if not wait_until(ready, READY_TIMEOUT):
        raise StackError(f"{label} not ready after {READY_TIMEOUT:.0f} s; last lines of {log}:\n{tail(log)}")


def signal_process(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def reap(pid: int) -> None:
    """Collect our own exited children (tests start and stop in one process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_processes(targets: Sequence[Recorded]) -> None:
    """SIGTERM every recorded process that is still ours, then SIGKILL stragglers."""
    running = [(label, pid, marker) for label, pid, marker in targets if pid and is_running(pid, marker)]
    for _, pid, _ in running:
        signal_process(pid, signal.SIGTERM)

    def all_gone() -> bool:
        for _, pid, _ in running:
            reap(pid)
        return not any(is_running(pid, marker) for _, pid, marker in running)

    if not wait_until(all_gone, STOP_TIMEOUT):
        for label, pid, marker in running:
            if is_running(pid, marker):
                print(f"{label} ignored SIGTERM for {STOP_TIMEOUT:.0f} s, killing")
                signal_process(pid, signal.SIGKILL)
        wait_until(all_gone, 5)
    for label, pid, _ in running:
        print(f"stopped {label} (pid {pid})")


def stop_recorded(label: str, pid: int | None, marker: str) -> None:
    """Stop one recorded process; its record may be dropped only once this returns."""
    stop_processes([(label, pid, marker)])
    if is_running(pid, marker):
        raise StackError(f"{label} (pid {pid}) would not stop")


def reuse_or_stop(
    label: str, pid: int | None, marker: str, ready: Callable[[], bool], timeout: float = READY_TIMEOUT
) -> bool:
    """True when the recorded process is ours and ready, waiting `timeout` seconds for one still starting.
    One that stays unready is stopped, so that a second copy never runs beside it on another port."""
    if not is_running(pid, marker):
        return False
    if wait_until(lambda: ready() or not is_running(pid, marker), timeout) and is_running(pid, marker):
        return True
    if is_running(pid, marker):
        print(f"{label} (pid {pid}) is running but not ready after {timeout:.0f} s: restarting it")
        stop_recorded(label, pid, marker)
    return False


def require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"'{tool}' not found on PATH")
    return path
