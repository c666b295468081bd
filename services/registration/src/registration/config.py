from pathlib import Path

from atelier_platform.settings import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    database_url: str
    port: int = 8001
    admin_token: SecretStr = Field(min_length=16, description="Bearer token of the admin API")
    public_url: str = Field(
        default="http://127.0.0.1:8001", description="Base of the links participants get (manage / cancel)"
    )
    yearly_target: int = Field(default=10_000, gt=0, description="People to train this year")
    intake_max_waiting: int = Field(
        default=5000, gt=0, description="Registrations waiting for a batch before the door answers 503"
    )
    intake_deadline_seconds: float = Field(
        default=10.0, gt=0, description="A registration not answered within this time gets 503 + Retry-After"
    )
