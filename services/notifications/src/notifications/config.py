from datetime import timedelta
from pathlib import Path

from atelier_platform import sealed
from atelier_platform.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATIONS_", extra="ignore")

    port: int = 8003
    admin_token: SecretStr = Field(min_length=16, description="Bearer token of GET /admin/messages")
    manage_link_key: SecretStr = Field(
        description="Base64 X25519 private key that opens the manage links registration seals for notifications"
    )
    consumer_group: str = Field(
        default="notifications",
        description="Kafka consumer group; a second copy with its own database needs its own group.",
    )

    smtp_host: str = Field(default="127.0.0.1", validation_alias=AliasChoices("SMTP_HOST"))
    smtp_port: int = Field(default=1025, validation_alias=AliasChoices("SMTP_PORT"))
    smtp_starttls: bool = Field(default=False, validation_alias=AliasChoices("SMTP_STARTTLS"))
    smtp_username: str | None = Field(default=None, validation_alias=AliasChoices("SMTP_USERNAME"))
    smtp_password: SecretStr | None = Field(default=None, validation_alias=AliasChoices("SMTP_PASSWORD"))
    smtp_ca_file: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SMTP_CA_FILE"),
        description="PEM bundle to trust for STARTTLS instead of the system's (a private CA)",
    )
    smtp_timeout: float = Field(default=10.0, gt=0, description="Seconds for each SMTP command")
    mail_from: str = "Atelier Brussels-Central <hello@atelier.brussels>"

    smtp_connections: int = Field(
        default=4,
        ge=1,
        le=8,
        description="SMTP connections kept open during a burst by each delivery round, each carrying one message at"
        " a time",
    )
    messages_per_round: int = Field(
        default=8,
        ge=1,
        le=64,
        description="The most messages one delivery round claims, sends over its `smtp_connections` and records in one"
        " statement; a crash between the server's acceptance and the round's commit sends them again",
    )
    delivery_rounds: int = Field(
        default=2,
        ge=1,
        le=4,
        description="Delivery rounds a process runs side by side, each over its own `smtp_connections`: one round's"
        " database work overlaps another's sending",
    )
    smtp_idle_seconds: float = Field(
        default=10.0,
        ge=0,
        le=60,
        description="How long connections stay open with nothing to send, so a trickle of messages does not pay a"
        " new SMTP session each; well under the server's own idle timeout (RFC 5321: at least 5 minutes)",
    )
    smtp_messages_per_connection: int = Field(
        default=100, ge=1, description="Messages sent over one SMTP connection before it is closed and opened again"
    )
    give_up_after_hours: float = Field(
        default=48.0,
        gt=0,
        description="A message that has not gone out this long after it was queued (or re-queued) fails, whether"
        " its own failures or an outage of the server kept it; an outage costs it no attempt",
    )
    retry_base_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay of a message, and first pause of an outage; doubles each time"
    )
    retry_max_seconds: float = Field(default=600.0, gt=0, description="Longest retry delay of a message")
    outage_max_pause_seconds: float = Field(
        default=30.0, gt=0, description="Longest pause between two tries of a server that is out"
    )
    poll_seconds: float = Field(default=1.0, gt=0, description="How often due messages and reminders are looked for")
    reminder_hours_before: float = Field(default=24.0, gt=0, description="How long before a session its reminder goes")

    @field_validator("manage_link_key")
    @classmethod
    def _is_a_private_key(cls, value: SecretStr) -> SecretStr:
        sealed.private_key(value.get_secret_value())
        return value

    @property
    def give_up_after(self) -> timedelta:
        return timedelta(hours=self.give_up_after_hours)

    @property
    def reminder_before(self) -> timedelta:
        return timedelta(hours=self.reminder_hours_before)
