"""Settings every service reads, whatever its prefix."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    # A refused value (a secret among them) must not be echoed into the start-up log; subclasses inherit this.
    model_config = SettingsConfigDict(extra="ignore", hide_input_in_errors=True)

    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"),
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
