"""A batch's runs of like events decided together: what decides them read once, what they decide written once.

A stretch is a run of a batch's events of the kinds a service decides together, each with another key
(`cut`). Any other event, or a second event with a key of the run, ends the stretch: what the stretch
decided is written before that event is handled (`written_first`), and the next stretch reads again.
So a batch gives what its events would give one by one, at one read and one write a stretch.

A service subclasses `Stretches` (the kinds, the key, and what is written), hands a new one to
`by_stretches` around each batch's handlers, and its handlers find it with `current`.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import AsyncIterator, Hashable, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar, Generic, TypeVar, cast

import asyncpg
from atelier_schemas import CloudEvent, Message

from .consumer import Handler, Handlers
from .errors import EarlierEventsFailed, is_transient

P = TypeVar("P", bound=Message)
S = TypeVar("S", bound="Stretches[Any]")


class Stretches(abc.ABC, Generic[P]):
    """The stretches of one batch, and the one being decided."""

    kinds: ClassVar[tuple[type[Message], ...]]  # the events decided together

    def __init__(self, payloads: Sequence[Message]) -> None:
        self._stretch_of = self.cut(payloads)
        self._reading: list[P] | None = None

    @abc.abstractmethod
    def key(self, payload: P) -> Hashable:
        """Two events with one key are never in one stretch: the second must see what the first decided."""

    @abc.abstractmethod
    async def flush(self, conn: asyncpg.Connection) -> None:
        """Write what the events handled so far decided, and forget it; nothing when there is nothing."""

    def cut(self, payloads: Sequence[Message]) -> dict[int, list[P]]:
        """Each event of `kinds` (by `id()`): its stretch."""
        stretch_of: dict[int, list[P]] = {}
        stretch: list[P] = []
        keys: set[Hashable] = set()
        for payload in payloads:
            if not isinstance(payload, self.kinds):
                stretch, keys = [], set()
                continue
            ours = cast(P, payload)
            if self.key(ours) in keys:
                stretch, keys = [], set()
            stretch.append(ours)
            keys.add(self.key(ours))
            stretch_of[id(ours)] = stretch
        return stretch_of

    async def begun(self, conn: asyncpg.Connection, payload: P) -> list[P] | None:
        """`payload`'s stretch when `payload` begins it (what the stretch before decided is written by then);
        None when `payload` is further into the stretch being decided."""
        stretch = self._stretch_of[id(payload)]
        if stretch is self._reading:
            return None
        await self.write(conn)
        self._reading = stretch
        return stretch

    async def write(self, conn: asyncpg.Connection) -> None:
        """`flush`. Its failure for good is not the event being handled's: the consumer then tries each
        record alone, which tells whose it is."""
        try:
            await self.flush(conn)
        except Exception as exc:
            if is_transient(exc):
                raise
            raise EarlierEventsFailed(f"writing what earlier events of this batch decided: {exc}") from exc


_current: ContextVar[Stretches[Any] | None] = ContextVar("atelier_stretches", default=None)


def current(kind: type[S]) -> S:
    """The batch being applied: events of `kind.kinds` are handled only inside `by_stretches`."""
    batch = _current.get()
    if not isinstance(batch, kind):
        raise RuntimeError(f"an event handled outside a batch: consume with {kind.__name__} by_stretches")
    return batch


@contextlib.asynccontextmanager
async def by_stretches(conn: asyncpg.Connection, batch: Stretches[Any]) -> AsyncIterator[None]:
    """Around a batch's handlers: `batch` for them to find, its last stretch written when they are done."""
    token = _current.set(batch)
    try:
        yield
    finally:
        _current.reset(token)
    await batch.write(conn)


def written_first(handlers: Handlers, kind: type[Stretches[Any]]) -> Handlers:
    """Every handler of an event not of `kind.kinds` first writes what the stretch before its event decided."""

    def after_writing(handler: Handler) -> Handler:
        async def handle(conn: asyncpg.Connection, event: CloudEvent, payload: Message) -> None:
            await current(kind).write(conn)
            await handler(conn, event, payload)

        return handle

    return {k: h if issubclass(k, kind.kinds) else after_writing(h) for k, h in handlers.items()}
