from pathlib import Path

from atelier_platform import sealed
from atelier_platform.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"
# Where `python -m web` listens by default.
LOCAL_WEB_URL = "http://127.0.0.1:8000"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    port: int = 8001
    admin_token: SecretStr = Field(min_length=16, description="Bearer token of the admin API")
    consumer_group: str = Field(default="registration", description="Kafka consumer group of the command consumer")
    environment: str = Field(
        default="local",
        validation_alias=AliasChoices("ATELIER_ENVIRONMENT"),
        description="`local` on a laptop or CI; anything else (staging, production) requires `public_url`",
    )
    public_url: str = Field(
        default="", description="Address the participant pages (services/web) really serve: base of the email links"
    )
    yearly_target: int = Field(default=10_000, gt=0, description="People to train this year")
    intake_max_waiting: int = Field(
        default=5000, gt=0, description="Registrations waiting for a batch before the door answers 503"
    )
    intake_deadline_seconds: float = Field(
        default=10.0, gt=0, description="A registration not answered within this time gets 503 + Retry-After"
    )

    notifications_public_key: str = Field(
        description="Base64 X25519 public key of notifications: the manage link in the events is sealed for it"
    )
    command_proof_key: SecretStr = Field(
        description="Base64 X25519 private key that opens the proofs of the commands acting on a registration"
    )
    address_burst: int = Field(default=20, ge=1, description="Registrations one client address may send at once")
    address_per_minute: float = Field(default=10, gt=0, description="...then this many per minute")
    domain_burst: int = Field(default=60, ge=1, description="Registrations for one email domain at once")
    domain_per_minute: float = Field(default=30, gt=0, description="...then this many per minute")

    @field_validator("notifications_public_key")
    @classmethod
    def _is_a_public_key(cls, value: str) -> str:
        sealed.public_key(value)
        return value

    @field_validator("command_proof_key")
    @classmethod
    def _is_a_private_key(cls, value: SecretStr) -> SecretStr:
        sealed.private_key(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _public_url_outside_local(self) -> "Settings":
        """A link to a guessed address would reach participants' inboxes: refuse to start instead."""
        if not self.public_url:
            if self.environment != "local":
                raise ValueError(f"REGISTRATION_PUBLIC_URL is required when ATELIER_ENVIRONMENT={self.environment}")
            self.public_url = LOCAL_WEB_URL
        return self
