from pathlib import Path

from atelier_platform.settings import ServiceSettings
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    database_url: str
    port: int = 8003
    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("SMTP_HOST"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("SMTP_PORT"))
    mail_from: str = "Atelier Brussels-Central <hello@atelier.brussels>"
    max_attempts: int = 10
