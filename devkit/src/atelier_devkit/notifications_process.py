"""A notifications process of the test's own: its database, consumer group and SMTP server.

The session-wide services read the same topics in group `notifications`; this one reads them in
a group of its own that starts at the current end of the topics, so it sees only what the test
publishes from then on. It can be killed (SIGKILL) and started again on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from atelier_platform.topics import ensure_topics
from atelier_schemas.topics import CATALOG_EVENTS, REGISTRATION_EVENTS, TICKETING_EVENTS

from .kafka import partition_count
from .stack.processes import free_port
from .waiting import answers_consuming

TOPICS = (REGISTRATION_EVENTS, CATALOG_EVENTS, TICKETING_EVENTS)


async def start_group_at_end_of_topics(bootstrap: str, group: str) -> None:
    """Commit the current end offsets for a new group: it will not read the topics' history."""
    await ensure_topics(bootstrap)
    partitions = [TopicPartition(t, p) for t in TOPICS for p in range(await partition_count(bootstrap, t))]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


class NotificationsProcess:
    def __init__(self, infra: dict[str, str], *, database_url: str, smtp_port: int, log: Path, **settings: object):
        self.bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
        self.group = f"notifications-test-{uuid.uuid4().hex[:8]}"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.admin_token = infra["NOTIFICATIONS_ADMIN_TOKEN"]
        self.log = log
        self.env = {
            **os.environ,
            **infra,
            "NOTIFICATIONS_DATABASE_URL": database_url,
            "NOTIFICATIONS_CONSUMER_GROUP": self.group,
            "NOTIFICATIONS_PORT": self.url.rsplit(":", 1)[1],
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "LOG_LEVEL": "INFO",
            **{f"NOTIFICATIONS_{name.upper()}": str(value) for name, value in settings.items()},
        }
        self._process: asyncio.subprocess.Process | None = None
        self._group_placed = False

    async def start(self) -> None:
        if not self._group_placed:
            await start_group_at_end_of_topics(self.bootstrap, self.group)
            self._group_placed = True
        with self.log.open("a") as out:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "notifications", env=self.env, stdout=out, stderr=asyncio.subprocess.STDOUT
            )
        await self._wait_ready()

    async def _wait_ready(self, timeout: float = 60) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline and self.running:
                if await answers_consuming(client, self.url):
                    return
                await asyncio.sleep(0.3)
        raise RuntimeError(f"notifications not ready; log tail:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye; whatever was in flight is lost."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            await self._process.wait()
            self._process = None

    async def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self._process.wait(), 20)
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        self._process = None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
