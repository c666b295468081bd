"""How this process reaches Kafka: TLS, SASL login, and whether it creates the topics it uses.

Every Kafka client of the platform (the FastStream broker, the producers, the admin clients of
topics, metrics and replay) takes its connection settings from `client_args()` or, for
FastStream, `broker_security()`: one reading of the `KAFKA_*` settings, one mapping (FastStream's
own `parse_security`), so the broker and the plain aiokafka clients always connect the same way.

    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default) | SCRAM-SHA-256 | PLAIN
    KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD   the login, for the SASL protocols
    KAFKA_SSL_CAFILE          CA bundle of the brokers' certificates (the system's CAs when unset)
    KAFKA_CREATE_TOPICS       true (default); false where an operator owns the topics
"""

from __future__ import annotations

import functools
import ssl
from pathlib import Path
from typing import Any, Literal

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]
_SASL = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaClientSettings(BaseSettings):
    """The `KAFKA_*` connection settings; every service's settings include them (read whatever its prefix)."""

    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        validation_alias=AliasChoices("KAFKA_SECURITY_PROTOCOL"),
        description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
    )
    kafka_sasl_mechanism: SaslMechanism = Field(
        default="SCRAM-SHA-512",
        validation_alias=AliasChoices("KAFKA_SASL_MECHANISM"),
        description="SASL mechanism of the SASL protocols (Strimzi's scram-sha-512 users: SCRAM-SHA-512)",
    )
    kafka_sasl_username: str = Field(default="", validation_alias=AliasChoices("KAFKA_SASL_USERNAME"))
    kafka_sasl_password: SecretStr = Field(default=SecretStr(""), validation_alias=AliasChoices("KAFKA_SASL_PASSWORD"))
    # Read when a client is made (the broker: as the app is created), so a migration Job needs no CA mounted.
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_SSL_CAFILE"),
        description="CA bundle the brokers' certificates are checked against; the system's CAs when unset",
    )
    kafka_create_topics: bool = Field(
        default=True,
        validation_alias=AliasChoices("KAFKA_CREATE_TOPICS"),
        description="Create missing topics on connecting; false where an operator (Strimzi) owns them",
    )

    @model_validator(mode="after")
    def _sasl_has_a_login(self) -> KafkaClientSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            protocol = self.kafka_security_protocol
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        return self


def broker_security(settings: KafkaClientSettings) -> BaseSecurity | None:
    """The settings as FastStream's security object (None for PLAINTEXT): what the broker connects with."""
    protocol = settings.kafka_security_protocol
    context = _ssl_context(settings.kafka_ssl_cafile) if protocol in ("SSL", "SASL_SSL") else None
    if protocol.startswith("SASL_"):
        login = _SASL[settings.kafka_sasl_mechanism]
        return login(
            settings.kafka_sasl_username,
            settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=context is not None,
        )
    return BaseSecurity(ssl_context=context) if context is not None else None


def client_args(settings: KafkaClientSettings | None = None) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client (producer, consumer, admin): the same connection as the broker's.

    Without `settings`, the process's own `KAFKA_*` settings, read once.
    """
    return parse_security(broker_security(settings or process_settings()))


@functools.cache
def process_settings() -> KafkaClientSettings:
    """This process's `KAFKA_*` settings; a wrong one raises pydantic's ValidationError, naming it."""
    return KafkaClientSettings()


def _ssl_context(cafile: Path | None) -> ssl.SSLContext:
    # Hostname checking stays on: Strimzi's broker certificates name the bootstrap and broker services.
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)
