"""Kafka, Postgres and SMTP of a stack together, and the settings that point the services at them."""

from __future__ import annotations

from .kafka import start_kafka, wait_for_kafka
from .postgres import DATABASES, PG_USER, ensure_postgres
from .services import SERVICES
from .settings import dev_sealing_keys, local_settings
from .smtp import ensure_smtp, maildir
from .state import HOST, State, load_state, save_state


def infra_env(name: str, state: State) -> dict[str, str]:
    pg_port = state["postgres"]["port"]
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{state['kafka']['port']}"}
    for database in DATABASES:
        env[f"{database.upper()}_DATABASE_URL"] = f"postgresql://{PG_USER}@{HOST}:{pg_port}/{database}"
    env["SMTP_HOST"] = HOST
    env["SMTP_PORT"] = str(state["smtp"]["port"])
    env["SMTP_MAILDIR"] = str(maildir(name))
    env["REGISTRATION_ADMIN_TOKEN"] = state["admin_token"]
    env["TICKETING_SIGNING_KEY"] = state["ticketing_signing_key"]
    env["TICKETING_CONDUCTOR_TOKEN"] = state["ticketing_conductor_token"]
    env["NOTIFICATIONS_ADMIN_TOKEN"] = state["notifications_admin_token"]
    env.update(local_settings(name, state))
    # One copy of each service on its own database: each migrates as it starts.
    env.update({f"{service.upper()}_MIGRATE_ON_START": "true" for service in SERVICES})
    return env


def start_infra(name: str, state: State) -> dict[str, str]:
    state.setdefault("sealing_keys", dev_sealing_keys())
    save_state(name, state)  # keep the admin token from the first moment
    # Kafka's JVM starts while Postgres and SMTP come up.
    kafka_started = start_kafka(name, state)
    ensure_postgres(name, state)
    ensure_smtp(name, state)
    if kafka_started is not None:
        wait_for_kafka(name, state, kafka_started)
    return infra_env(name, state)


def ensure_infra(name: str) -> dict[str, str]:
    """Start or reuse Kafka, Postgres and SMTP for a stack; returns their env variables."""
    return start_infra(name, load_state(name))
