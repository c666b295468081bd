"""Notifications' delivery as a sender runs it, against a test's SMTP server, without the service."""

from __future__ import annotations

import asyncpg
from notifications.config import Settings
from notifications.delivery import Deliverer
from notifications.smtp import Mailer

from support.links import TEST_MANAGE_LINK_KEY


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
    """Try every due message once, as a sender would."""
    settings = delivery_settings(port, **overrides)
    deliverer, mailer = deliverer or Deliverer(settings), Mailer(settings)
    try:
        while await deliverer.deliver_next(pool, mailer):
            pass
    finally:
        await mailer.close()
