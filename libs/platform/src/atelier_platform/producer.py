"""An idempotent Kafka producer that outlives the broker: started on first use, rebuilt when broken.

After a broker restart aiokafka's idempotent producer can stay stuck on OutOfOrderSequenceNumber
or UnknownProducerId for good (aiokafka issue #1017). Here a producer error that is not about
one record closes the producer; the next send starts a fresh one, with a new producer id.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata

from .errors import breaks_producer
from .kafka_client import client_args

log = structlog.get_logger(__name__)

MAX_REQUEST_SIZE = 1_048_576  # bytes; Kafka's default message.max.bytes is about the same
REQUEST_TIMEOUT = 10.0  # seconds a record may wait for the broker before its send fails
# aiokafka's start waits for a producer id without end while the broker is unreachable.
START_TIMEOUT = 15.0  # seconds a new producer gets to reach the broker before the send fails
CLOSE_TIMEOUT = 5.0  # seconds a broken producer gets to close before it is dropped

Headers = Sequence[tuple[str, bytes]]


class Producer:
    def __init__(self, bootstrap_servers: str, *, name: str) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.name = name
        self.rebuilds = 0  # how many times a broken producer was replaced
        self._producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._starting:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    enable_idempotence=True,
                    acks="all",
                    linger_ms=5,
                    max_request_size=MAX_REQUEST_SIZE,
                    request_timeout_ms=int(REQUEST_TIMEOUT * 1000),
                    **client_args(),
                )
                try:
                    async with asyncio.timeout(START_TIMEOUT):
                        await producer.start()
                except BaseException:
                    await _close(producer)
                    raise
                self._producer = producer
            return self._producer

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers = ()
    ) -> asyncio.Future[RecordMetadata]:
        """Queue one record; the future is done once Kafka has it. Raises for a record that cannot be queued."""
        producer = await self._started()
        try:
            queued: asyncio.Future[RecordMetadata] = await producer.send(
                topic, value=value, key=key, headers=list(headers)
            )
        except KafkaError as exc:
            await self._discard_if_broken(producer, exc)
            raise
        return queued

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers = ()
    ) -> None:
        producer = await self._started()
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT * 1.5):
                await (await producer.send(topic, value=value, key=key, headers=list(headers)))
        except (KafkaError, TimeoutError) as exc:
            await self._discard_if_broken(producer, exc)
            raise

    async def discard_if_broken(self, exc: BaseException) -> None:
        """Close the producer after an error that may have broken it; the next send starts a new one."""
        if self._producer is not None:
            await self._discard_if_broken(self._producer, exc)

    async def _discard_if_broken(self, producer: AIOKafkaProducer, exc: BaseException) -> None:
        if self._producer is not producer or not breaks_producer(exc):
            return  # already replaced, or the error was about one record
        self._producer = None
        self.rebuilds += 1
        log.warning("kafka producer closed after an error; a new one starts", producer=self.name, error=repr(exc))
        await _close(producer)

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await _close(producer)


async def _close(producer: AIOKafkaProducer) -> None:
    """Stop it, but never wait long for a broker that is gone."""
    with contextlib.suppress(Exception, TimeoutError):
        await asyncio.wait_for(producer.stop(), CLOSE_TIMEOUT)
