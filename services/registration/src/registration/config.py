from pathlib import Path

from atelier_platform.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"
# Where `python -m web` listens by default.
LOCAL_WEB_URL = "http://127.0.0.1:8000"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    port: int = 8001
    admin_token: SecretStr = Field(min_length=16, description="Bearer token of the admin API")
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

    @model_validator(mode="after")
    def _public_url_outside_local(self) -> "Settings":
        """A link to a guessed address would reach participants' inboxes: refuse to start instead."""
        if not self.public_url:
            if self.environment != "local":
                raise ValueError(f"REGISTRATION_PUBLIC_URL is required when ATELIER_ENVIRONMENT={self.environment}")
            self.public_url = LOCAL_WEB_URL
        return self
