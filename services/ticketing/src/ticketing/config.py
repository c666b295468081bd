import base64
import binascii
from decimal import Decimal
from pathlib import Path

from atelier_platform.settings import ServiceSettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    port: int = 8002
    consumer_group: str = Field(
        default="ticketing",
        description="Kafka consumer group; a second copy with its own database needs its own group.",
    )
    voucher_price_eur: Decimal = Decimal("9.60")
    # Base64 of the 32-byte Ed25519 seed. Required: the service refuses to start without it.
    signing_key: SecretStr
    # Bearer token of the conductors' scan endpoint.
    conductor_token: SecretStr = Field(min_length=16)
    # Voucher lookups and scans per client IP, per replica: a burst, then a steady rate.
    lookup_burst: int = Field(default=30, ge=1)
    lookups_per_minute: float = Field(default=30, gt=0)

    @field_validator("signing_key")
    @classmethod
    def _is_an_ed25519_seed(cls, value: SecretStr) -> SecretStr:
        seed_from_base64(value.get_secret_value())
        return value

    def signing_seed(self) -> bytes:
        return seed_from_base64(self.signing_key.get_secret_value())


def seed_from_base64(text: str) -> bytes:
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("TICKETING_SIGNING_KEY is not base64") from exc
    if len(seed) != 32:
        raise ValueError(f"TICKETING_SIGNING_KEY must be the base64 of 32 bytes, not {len(seed)}")
    return seed
