"""Registrations over HTTP, decided in batches, and every request answered.

Everyone who arrives while a batch is being written joins the next one, so under load many people
share one transaction and a handful of round trips to Postgres; under light load a batch is one
person. Each answer is the same as if the request had been decided alone (see
`service_layer.registering`).

Every request gets an answer: a full line (`max_waiting`) answers 503 at once; a request not
answered within `deadline_seconds` gets 503 (decided or not — a retry with the same Idempotency-Key
gets the real answer); a failure that may pass by itself (the platform's `is_transient`: the database
unreachable or going away, out of resources, a deadlock) fails the whole batch with 503 at once;
any other failure of a batch decides its requests again one by one, so an error reaches only the
request that caused it; and whatever happens, a batch's requests are answered in a `finally`.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field

import structlog
from atelier_platform.errors import is_transient
from atelier_platform.metrics import INTAKE_QUEUE

from ..service_layer.answers import Answer
from ..service_layer.manage_links import ManageLinks
from ..service_layer.registering import answer_registrations
from ..service_layer.registrations import Application
from ..service_layer.unit_of_work import Keyed, UnitOfWork

log = structlog.get_logger(__name__)
RETRY_AFTER_SECONDS = 1


def busy(detail: str) -> Answer:
    return Answer(503, {"detail": detail}, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


QUEUE_FULL = busy("too many registrations waiting; retry shortly")
TOO_LATE = busy("not answered in time; retry with the same Idempotency-Key to learn the outcome")
UNAVAILABLE = busy("registrations cannot be decided right now; retry shortly")
NOT_DECIDED = busy("the registration could not be decided; retry with the same Idempotency-Key")


@dataclass(eq=False)  # compared and hashed by identity
class _Pending:
    application: Application
    keyed: Keyed
    answer: asyncio.Future[Answer] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Intake:
    def __init__(
        self,
        uow: UnitOfWork,
        *,
        links: ManageLinks,
        max_batch: int = 100,
        max_waiting: int = 5000,
        deadline_seconds: float = 10.0,
    ) -> None:
        self._uow = uow
        self._links = links
        self._max_batch = max_batch
        self._max_waiting = max_waiting
        self._deadline = deadline_seconds
        self._queue: collections.deque[_Pending] = collections.deque()
        self._arrived = asyncio.Event()

    async def register(self, application: Application, key: str | None = None, digest: bytes | None = None) -> Answer:
        """The answer to one registration request; `digest` identifies the request behind `key`.

        Raises only an error that belongs to this request alone (it was decided by itself).
        """
        if len(self._queue) >= self._max_waiting:
            return QUEUE_FULL
        pending = _Pending(application, Keyed(key, digest))
        self._queue.append(pending)
        INTAKE_QUEUE.inc()
        self._arrived.set()
        try:
            return await asyncio.wait_for(asyncio.shield(pending.answer), self._deadline)
        except TimeoutError:
            pending.answer.cancel()  # still waiting: it will not be decided; in a batch: its answer is dropped
            return TOO_LATE

    async def run(self) -> None:
        """Decide batches until cancelled. Run two: one builds answers while the other waits on Postgres."""
        while True:
            await self._arrived.wait()
            batch: list[_Pending] = []
            while self._queue and len(batch) < self._max_batch:
                pending = self._queue.popleft()
                INTAKE_QUEUE.dec()
                if not pending.answer.done():  # gone past its deadline while waiting
                    batch.append(pending)
            if not self._queue:
                self._arrived.clear()
            if batch:
                await self._decide(batch)

    async def _decide(self, batch: list[_Pending]) -> None:
        try:
            answers = await self._answer(batch)
        except Exception as exc:
            if is_transient(exc):
                _fail(batch, exc)
            elif len(batch) == 1:
                _settle(batch[0], exc)
            else:
                log.warning("registration batch failed, deciding one by one", size=len(batch), error=repr(exc))
                await self._one_by_one(batch)
        else:
            for pending, answer in zip(batch, answers, strict=True):
                _settle(pending, answer)
        finally:  # cancelled (shutdown) or anything unforeseen: nobody is left waiting
            for pending in batch:
                _settle(pending, NOT_DECIDED)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        for n, pending in enumerate(batch):
            try:
                [answer] = await self._answer([pending])
            except Exception as exc:
                if is_transient(exc):
                    _fail(batch[n:], exc)
                    return
                _settle(pending, exc)
            else:
                _settle(pending, answer)

    async def _answer(self, batch: list[_Pending]) -> list[Answer]:
        requests = [(p.application, p.keyed) for p in batch]
        return await answer_registrations(self._uow, requests, links=self._links)


def _fail(batch: list[_Pending], exc: BaseException) -> None:
    log.warning("registration batch answered 503, may pass by itself", size=len(batch), error=type(exc).__name__)
    for pending in batch:
        _settle(pending, UNAVAILABLE)


def _settle(pending: _Pending, answer: Answer | BaseException) -> None:
    if pending.answer.done():  # answered already, or past its deadline
        return
    if isinstance(answer, BaseException):
        pending.answer.set_exception(answer)
    else:
        pending.answer.set_result(answer)
