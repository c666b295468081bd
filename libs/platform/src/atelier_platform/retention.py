"""How long a service keeps what it no longer needs, and the supervised task that forgets it.

Every service purges its published outbox rows and its old inbox rows; a service adds purges of its
own (anonymising past sessions' data) through `Purge`. Inbox rows must outlive every copy of an
event that could come back — the topics' and the dead-letter topics' retention (a replay from a
`.dlq`) — or a redelivery would be applied twice, so the settings refuse a shorter inbox retention.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .metrics import ROWS_PURGED
from .topics import DAY_MS, TopicSettings

log = structlog.get_logger(__name__)


class RetentionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore", hide_input_in_errors=True)

    outbox_sent_days: int = Field(default=7, ge=1, description="Published outbox rows are deleted after this many days")
    inbox_days: int = Field(
        default=45, ge=1, description="Inbox rows (event ids handled) are kept this long: longer than any topic keeps"
    )
    past_sessions_months: int = Field(
        default=6,
        ge=1,
        description="Personal data tied to a session (message contents, voucher holders) is anonymised this many"
        " months after it ended",
    )
    every_seconds: float = Field(default=3600, gt=0, description="Time between two purges")

    @model_validator(mode="after")
    def _inbox_outlives_the_topics(self) -> RetentionSettings:
        topics = TopicSettings()
        longest = max([topics.retention_ms, topics.dlq_retention_ms, *topics.retention_ms_by_topic.values()])
        if longest < 0 or self.inbox_days * DAY_MS <= longest:
            raise ValueError(
                "RETENTION_INBOX_DAYS must be longer than the longest topic retention"
                f" ({longest / DAY_MS:g} days): a redelivered event would be applied twice"
            )
        return self


@dataclass(frozen=True)
class Purge:
    """One purge: `run` deletes or anonymises rows and returns how many; `name` labels its metric."""

    name: str
    run: Callable[[asyncpg.Connection, RetentionSettings], Awaitable[int]]


async def purge_sent_outbox(conn: asyncpg.Connection, settings: RetentionSettings) -> int:
    return rows_affected(
        await conn.execute(
            "DELETE FROM outbox WHERE sent_at < now() - make_interval(days => $1)", settings.outbox_sent_days
        )
    )


async def purge_inbox(conn: asyncpg.Connection, settings: RetentionSettings) -> int:
    return rows_affected(
        await conn.execute(
            "DELETE FROM inbox WHERE handled_at < now() - make_interval(days => $1)", settings.inbox_days
        )
    )


PLATFORM_PURGES = (Purge("outbox", purge_sent_outbox), Purge("inbox", purge_inbox))


def rows_affected(status: str) -> int:
    """Rows affected, from asyncpg's status line (`DELETE 12`, `UPDATE 3`)."""
    return int(status.rsplit(" ", 1)[-1])


async def purge_once(pool: asyncpg.Pool, purges: Sequence[Purge], settings: RetentionSettings) -> dict[str, int]:
    """Run every purge once, each in its own transaction; returns rows per purge."""
    done = {}
    for purge in purges:
        async with pool.acquire() as conn, conn.transaction():
            done[purge.name] = rows = await purge.run(conn, settings)
        ROWS_PURGED.labels(purge.name).inc(rows)
        if rows:
            log.info("retention purge", purge=purge.name, rows=rows)
    return done


async def purge_forever(pool: asyncpg.Pool, purges: Sequence[Purge], settings: RetentionSettings) -> None:
    """Runs as supervised housekeeping: a failure restarts it."""
    while True:
        await purge_once(pool, purges, settings)
        await asyncio.sleep(settings.every_seconds)
