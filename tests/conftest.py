"""Servers for the tests: real Kafka, Postgres and SMTP, started by the local stack launcher (atelier_devkit.stack).

Explicit KAFKA_BOOTSTRAP_SERVERS, *_DATABASE_URL and SMTP_* settings win; otherwise the
`test` stack of this checkout is started, or reused when it is already healthy.
"""

from __future__ import annotations

import os

import pytest
from atelier_devkit.stack.infra import ensure_infra

REQUIRED = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "REGISTRATION_DATABASE_URL",
    "TICKETING_DATABASE_URL",
    "NOTIFICATIONS_DATABASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_MAILDIR",
    "REGISTRATION_ADMIN_TOKEN",
    "TICKETING_SIGNING_KEY",
    "TICKETING_CONDUCTOR_TOKEN",
    "NOTIFICATIONS_ADMIN_TOKEN",
    "NOTIFICATIONS_MANAGE_LINK_KEY",
    "REGISTRATION_NOTIFICATIONS_PUBLIC_KEY",
    "REGISTRATION_COMMAND_PROOF_KEY",
)


@pytest.fixture(scope="session")
def infra() -> dict[str, str]:
    if all(os.environ.get(name) for name in REQUIRED):
        # The services the tests start migrate their databases, as in the local stack.
        migrate = {f"{service}_MIGRATE_ON_START": "true" for service in ("REGISTRATION", "TICKETING", "NOTIFICATIONS")}
        return {**{name: os.environ[name] for name in REQUIRED}, **migrate}
    return ensure_infra("test")
