from atelier_platform.settings import TrustedProxies
from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict


class Settings(TrustedProxies):
    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore", hide_input_in_errors=True)

    host: str = "127.0.0.1"
    port: int = 8000
    registration_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=AliasChoices("WEB_REGISTRATION_URL", "REGISTRATION_URL"),
        description="Registration's public HTTP API, as the front-end reaches it",
    )
    ticketing_url: str = Field(
        default="http://127.0.0.1:8002",
        validation_alias=AliasChoices("WEB_TICKETING_URL", "TICKETING_URL"),
        description="Ticketing's public HTTP API, as the front-end reaches it",
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
