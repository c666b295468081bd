"""The KAFKA_* settings become the same aiokafka and FastStream connection arguments; wrong ones stop the start."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from atelier_platform.kafka_client import KafkaClientSettings, broker_security, client_args
from faststream.security import SASLScram512
from pydantic import ValidationError

SYSTEM_CAS = Path("/etc/ssl/certs/ca-certificates.crt")
PASSWORD = "kafka-password-that-must-not-show"


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> KafkaClientSettings:
    for name in [n for n in os.environ if n.startswith("KAFKA_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return KafkaClientSettings()


@pytest.fixture
def one_ca(tmp_path: Path) -> Path:
    """A CA file holding a single certificate (the first of the system's bundle)."""
    text = SYSTEM_CAS.read_text()
    end = "-----END CERTIFICATE-----"
    path = tmp_path / "ca.crt"
    path.write_text(text[text.index("-----BEGIN CERTIFICATE-----") : text.index(end) + len(end)] + "\n")
    return path


def test_by_default_clients_connect_in_plaintext_and_create_their_topics(monkeypatch):
    plain = settings(monkeypatch)
    assert client_args(plain) == {}  # aiokafka's own default: PLAINTEXT
    assert broker_security(plain) is None
    assert plain.kafka_create_topics is True


def test_sasl_ssl_with_scram_logs_in_and_checks_the_brokers_against_the_given_ca(monkeypatch, one_ca):
    secure = settings(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="ticketing-kafka",
        KAFKA_SASL_PASSWORD=PASSWORD,
        KAFKA_SSL_CAFILE=str(one_ca),
        KAFKA_CREATE_TOPICS="false",
    )
    args = client_args(secure)
    context = args.pop("ssl_context")
    assert args == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ticketing-kafka",
        "sasl_plain_password": PASSWORD,
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert len(context.get_ca_certs()) == 1  # the given CA only, not the system's
    assert isinstance(broker_security(secure), SASLScram512)
    assert secure.kafka_create_topics is False


def test_sasl_plaintext_logs_in_without_tls(monkeypatch):
    args = client_args(
        settings(
            monkeypatch,
            KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
            KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
            KAFKA_SASL_USERNAME="registration-kafka",
            KAFKA_SASL_PASSWORD=PASSWORD,
        )
    )
    assert args["security_protocol"] == "SASL_PLAINTEXT" and args["ssl_context"] is None
    assert args["sasl_mechanism"] == "SCRAM-SHA-256" and args["sasl_plain_username"] == "registration-kafka"


def test_ssl_alone_encrypts_without_a_login(monkeypatch, one_ca):
    args = client_args(settings(monkeypatch, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE=str(one_ca)))
    assert args["security_protocol"] == "SSL" and isinstance(args["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in args


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-1"}, "KAFKA_SASL_MECHANISM"),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "KAFKA_SASL_USERNAME"),  # a password, no user
    ],
)
def test_a_wrong_setting_is_named_and_no_secret_is_repeated(monkeypatch, env, named):
    with pytest.raises(ValidationError) as refused:
        settings(monkeypatch, KAFKA_SASL_PASSWORD=PASSWORD, **env)
    assert named in str(refused.value)
    assert PASSWORD not in str(refused.value) and "SCRAM-SHA-1" not in str(refused.value)


def test_a_missing_ca_file_stops_the_client_naming_the_file(monkeypatch):
    missing = settings(monkeypatch, KAFKA_SECURITY_PROTOCOL="SSL", KAFKA_SSL_CAFILE="/nowhere/kafka-ca.crt")
    with pytest.raises(FileNotFoundError):
        client_args(missing)


def test_the_password_never_shows_in_the_settings_repr(monkeypatch):
    assert PASSWORD not in repr(settings(monkeypatch, KAFKA_SASL_PASSWORD=PASSWORD))


def test_a_service_with_a_wrong_sasl_mechanism_stops_at_start_up_naming_the_setting():
    env = {
        "PATH": os.environ["PATH"],
        "TICKETING_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/ticketing",  # never reached
        "TICKETING_SIGNING_KEY": "A" * 43 + "=",
        "TICKETING_CONDUCTOR_TOKEN": "conductor-token-0123456789",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-1",
        "KAFKA_SASL_USERNAME": "ticketing-kafka",
        "KAFKA_SASL_PASSWORD": PASSWORD,
    }
    started = subprocess.run([sys.executable, "-m", "ticketing"], env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "KAFKA_SASL_MECHANISM" in started.stderr and "'SCRAM-SHA-512'" in started.stderr
    assert PASSWORD not in started.stderr + started.stdout
