"""Errors are described by type, SQLSTATE, constraint and field, never by the values that caused them."""

from __future__ import annotations

import importlib
import json

import asyncpg
import pytest
from atelier_platform import logs
from atelier_platform.error_text import describe
from atelier_schemas import InvalidEnvelope, RegistrationConfirmed
from pydantic import ValidationError

EMAIL = "lena.private@example.be"


def unique_violation() -> asyncpg.UniqueViolationError:
    error = asyncpg.UniqueViolationError('duplicate key value violates unique constraint "registrations_email_key"')
    error.sqlstate, error.constraint_name, error.table_name = "23505", "registrations_email_key", "registrations"
    error.detail = f"Key (email)=({EMAIL}) already exists."
    return error


def test_a_database_error_gives_its_sqlstate_and_constraint_not_the_row():
    described = describe(unique_violation())
    assert described == "UniqueViolationError (SQLSTATE 23505, constraint registrations_email_key, table registrations)"


def test_a_validation_error_gives_fields_and_rules_not_the_input():
    with pytest.raises(ValidationError) as caught:
        RegistrationConfirmed.model_validate({"participant": {"name": "Lena", "email": EMAIL}})
    described = describe(caught.value)
    assert described.startswith("ValidationError:") and "registration_id: missing" in described
    assert EMAIL not in described and "Lena" not in described


def test_a_foreign_message_is_left_out_and_our_own_kept():
    assert describe(ValueError(f"bad address {EMAIL}")) == "ValueError"
    assert describe(InvalidEnvelope("value is not a JSON object")) == "InvalidEnvelope: value is not a JSON object"


def test_a_logged_traceback_shows_the_description_not_the_detail():
    try:
        try:
            raise unique_violation()
        except asyncpg.PostgresError as exc:
            raise RuntimeError(f"could not store {EMAIL}") from exc
    except RuntimeError as exc:
        rendered = logs.tracebacks(None, "error", {"event": "it failed", "exc_info": exc})
    values = [stack["exc_value"] for stack in rendered["exception"]]
    assert values == ["RuntimeError", describe(unique_violation())]
    assert EMAIL not in json.dumps(rendered, default=str)


SETTINGS = [
    ("atelier_platform.settings", "ServiceSettings", "WORKERS"),
    ("atelier_platform.db", "PoolTimeouts", "DATABASE_ACQUIRE_TIMEOUT"),
    ("atelier_platform.topics", "TopicSettings", "KAFKA_TOPIC_PARTITIONS"),
    ("atelier_platform.input_rules", "InputSettings", "MAX_BODY_BYTES"),
    ("registration.config", "Settings", "REGISTRATION_WORKERS"),
    ("ticketing.config", "Settings", "TICKETING_WORKERS"),
    ("notifications.config", "Settings", "NOTIFICATIONS_WORKERS"),
    ("web.config", "Settings", "WEB_PORT"),
]


@pytest.mark.parametrize(("module", "name", "variable"), SETTINGS)
def test_every_settings_class_names_a_refused_value_without_repeating_it(monkeypatch, module, name, variable):
    monkeypatch.setenv(variable, "secret-looking-value")
    settings = getattr(importlib.import_module(module), name)
    with pytest.raises(ValidationError) as caught:
        settings()
    assert "secret-looking-value" not in str(caught.value)
