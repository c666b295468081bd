"""A stack of its own for tests and runs that kill servers: Kafka, Postgres and SMTP that can be
SIGKILLed, stopped and started again on the same ports and data, and the three services as real
processes that can be killed, added and replaced.

Nothing here touches the shared `test` stack: other test folders keep their servers while these die.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from atelier_platform.runtime import KAFKA_CONNECTED

from atelier_devkit.stack import cli, kafka, postgres, smtp
from atelier_devkit.stack.infra import ensure_infra
from atelier_devkit.stack.processes import free_port, is_alive, reap, run, signal_process, wait_until
from atelier_devkit.stack.state import HOST, load_state

from .waiting import answers_consuming

SERVICES = ("registration", "ticketing", "notifications")
# aiokafka's reconnect warnings fill a log during an outage; a failing test needs what the service did.
AIOKAFKA_LOGGER = re.compile(r'"logger": ?"aiokafka')


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes under its supervisor `pid` (not multiprocessing's resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z" and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


class ServiceProcess:
    """One service process (with its uvicorn workers) in a session of its own, so it dies as a whole."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, port: int | None = None, **settings: str):
        self.name = name
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = log_dir / f"{name}-{self.port}.log"
        self.env = {**os.environ, **env, f"{name.upper()}_PORT": str(self.port), "LOG_LEVEL": "INFO", **settings}
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self._log_offset = 0  # where this start's lines begin in the log

    async def start(self, ready_timeout: float = 90) -> ServiceProcess:
        self._spawn()
        await self.wait_ready(ready_timeout)
        return self

    def _spawn(self) -> None:
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.name],
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, timeout: float = 90) -> None:
        """Until /readyz says Kafka is "ok" and every worker has logged that it reached Kafka: with
        several workers, /readyz answers for whichever one takes the request."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline and self.running:
                if await answers_consuming(client, self.url) and self._workers_on_kafka() >= self._worker_count:
                    return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready; log tail:\n{self.log_tail()}")

    @property
    def _worker_count(self) -> int:
        return int(self.env.get(f"{self.name.upper()}_WORKERS") or 1)

    def _workers_on_kafka(self) -> int:
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().count(KAFKA_CONNECTED.encode())

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def workers(self) -> list[int]:
        """The processes that serve requests: uvicorn's workers, or the process itself with one worker."""
        assert self.process is not None
        return workers_of(self.process.pid) or [self.process.pid]

    def kill_workers(self) -> list[int]:
        """SIGKILL every worker at once; uvicorn's supervisor starts new ones."""
        workers = self.workers()
        for pid in workers:
            signal_process(pid, signal.SIGKILL)
        return workers

    async def kill(self) -> None:
        """SIGKILL the process and its workers: no shutdown, whatever was in flight is lost."""
        if self.process is None:
            return
        signal_process(-self.process.pid, signal.SIGKILL)  # the whole process group
        await asyncio.to_thread(self.process.wait)
        self.process = None

    async def stop(self) -> None:
        if self.process is None:
            return
        signal_process(-self.process.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            signal_process(-self.process.pid, signal.SIGKILL)
            await asyncio.to_thread(self.process.wait)
        self.process = None

    async def readiness(self) -> tuple[int, dict]:
        """The status and body of /readyz."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.url}/readyz", timeout=5)
        return response.status_code, response.json()

    async def health(self) -> int:
        """The status of /healthz (0 when nothing answers)."""
        try:
            async with httpx.AsyncClient() as client:
                return (await client.get(f"{self.url}/healthz", timeout=5)).status_code
        except httpx.HTTPError:
            return 0

    def log_tail(self, lines: int = 40) -> str:
        """The last `lines` of the log that did not come from aiokafka."""
        ours = [line for line in self.log.read_text(errors="replace").splitlines() if not AIOKAFKA_LOGGER.search(line)]
        return "\n".join(ours[-lines:])


@dataclass
class FaultStack:
    """Kafka, Postgres and SMTP of the stack `name`, with the means to break them and bring them back."""

    name: str
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def up(self) -> dict[str, str]:
        self.env = ensure_infra(self.name)
        return self.env

    def down(self) -> None:
        cli.down(self.name)

    def fresh(self) -> dict[str, str]:
        """A stack with no history: empty databases, topics and maildir."""
        cli.wipe(self.name)
        return self.up()

    @property
    def bootstrap(self) -> str:
        return self.env["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def maildir(self) -> str:
        return self.env["SMTP_MAILDIR"]

    def _state(self) -> dict:
        return load_state(self.name)

    # --- services ---------------------------------------------------------

    async def start_service(self, name: str, port: int | None = None, **settings: str) -> ServiceProcess:
        """A new process of `name` (a further member of its consumer group if one runs already)."""
        return await ServiceProcess(name, self.env, self.log_dir, port, **settings).start()

    async def start_services(self, **settings_by_service: dict[str, str]) -> None:
        started = await asyncio.gather(
            *(self.start_service(name, **settings_by_service.get(name, {})) for name in SERVICES)
        )
        self.services = dict(zip(SERVICES, started, strict=True))

    async def restart_service(self, name: str) -> ServiceProcess:
        """Kill it (if it still runs) and start it again: the same settings, the same port."""
        old = self.services[name]
        await old.kill()
        self.services[name] = await self.start_service(name, old.port, **old.settings)
        return self.services[name]

    async def stop_services(self) -> None:
        await asyncio.gather(*(service.stop() for service in self.services.values()))

    async def health(self) -> dict[str, int]:
        return {name: await service.health() for name, service in self.services.items()}

    def log_tails(self) -> str:
        return "\n".join(f"--- {name}\n{service.log_tail(25)}" for name, service in self.services.items())

    # --- kafka ------------------------------------------------------------

    def kill_kafka(self) -> None:
        pid = self._state()["kafka"]["pid"]
        signal_process(pid, signal.SIGKILL)
        wait_until(lambda: (reap(pid), not is_alive(pid))[1], 10)

    def start_kafka(self) -> None:
        state = self._state()
        started = kafka.start_kafka(self.name, state)
        if started is not None:
            kafka.wait_for_kafka(self.name, state, started)

    # --- postgres ---------------------------------------------------------

    def stop_postgres(self, mode: str) -> None:
        """`pg_ctl stop -m immediate` is a crash as far as the data goes; `fast` a clean shutdown."""
        pg = self._state()["postgres"]
        run(
            postgres.as_postgres_user([Path(pg["bin"]) / "pg_ctl", "-D", pg["data_dir"], "-m", mode, "-w", "stop"]),
            cwd=pg["root"],
        )

    def start_postgres(self) -> None:
        postgres.ensure_postgres(self.name, self._state())

    # --- smtp -------------------------------------------------------------

    def kill_smtp(self) -> None:
        pid = self._state()["smtp"]["pid"]
        signal_process(pid, signal.SIGKILL)
        wait_until(lambda: (reap(pid), not is_alive(pid))[1], 10)

    def start_smtp(self) -> None:
        smtp.ensure_smtp(self.name, self._state())
