"""Settings every service reads, whatever its prefix."""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .kafka_client import KafkaClientSettings
from .ratelimit import Network, trusted_networks

CONSUMER_BATCH_MAX = 500  # records a subscriber takes from Kafka at once, by default
CONSUMER_GATHER_MS = 100  # how long the broker may hold a service's fetch for more records, by default


class TrustedProxies(BaseSettings):
    """Who may name the client in X-Forwarded-For (`atelier_platform.ratelimit.client_address`)."""

    trusted_proxies: str = Field(
        default="",
        validation_alias=AliasChoices("TRUSTED_PROXIES"),
        description="Addresses or networks of the proxies whose X-Forwarded-For names the client (comma-separated)",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        trusted_networks(value)
        return value

    def proxies(self) -> tuple[Network, ...]:
        return trusted_networks(self.trusted_proxies)


class ServiceSettings(KafkaClientSettings, TrustedProxies):
    # A refused value (a secret among them) must not be echoed into the start-up log; subclasses inherit this.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
    )
    kafka_consumer_batch_max: int = Field(
        default=CONSUMER_BATCH_MAX,
        ge=1,
        le=10_000,
        validation_alias=AliasChoices("KAFKA_CONSUMER_BATCH_MAX"),
        description="Records a subscriber takes from Kafka at once, at most, and applies in one transaction",
    )
    kafka_consumer_gather_ms: int = Field(
        default=CONSUMER_GATHER_MS,
        ge=0,
        le=1000,
        validation_alias=AliasChoices("KAFKA_CONSUMER_GATHER_MS"),
        description="How long the broker may hold a fetch while fewer than a hundred records wait (0: answer at once)",
    )
    host: str = "127.0.0.1"
    workers: int = Field(
        default=1, ge=1, le=16, description="Processes serving HTTP and consuming; each has its own pool"
    )
    migrate_on_start: bool = Field(
        default=False, description="Apply migrations before serving; off where a Job applies them once"
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    # Read with the service's prefix (REGISTRATION_DATABASE_URL, TICKETING_PORT, ...); each service sets its port.
    database_url: str
    port: int
