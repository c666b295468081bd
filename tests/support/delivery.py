"""Notifications' delivery as a sender runs it, against a test's SMTP server, without the service."""

from __future__ import annotations

import asyncpg
from notifications.config import Settings
from notifications.delivery import Deliverer
from notifications.smtp import MailerPool

from support.links import TEST_MANAGE_LINK_KEY


def messages_in_flight() -> int:
    """What a notifications process may have sent and not yet recorded, by default: the messages of each
    of its delivery rounds; so, at most, what a crash makes go twice."""
    fields = Settings.model_fields
    return fields["messages_per_round"].default * fields["delivery_rounds"].default


def delivery_settings(port: int, **overrides) -> Settings:
    return Settings(
        database_url="unused",
        admin_token="t" * 16,
        manage_link_key=TEST_MANAGE_LINK_KEY,
        smtp_host="127.0.0.1",
        smtp_port=port,
        **{"retry_base_seconds": 0.2, "retry_max_seconds": 0.5, **overrides},
    )


async def deliver_all(pool: asyncpg.Pool, port: int, deliverer: Deliverer | None = None, **overrides) -> None:
    """Try every due message once, round after round, as the service's deliverer would."""
    settings = delivery_settings(port, **overrides)
    deliverer, mailers = deliverer or Deliverer(settings), MailerPool(settings)
    try:
        while await deliverer.deliver_round(pool, mailers):
            pass
    finally:
        await mailers.close()
