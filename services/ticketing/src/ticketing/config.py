from decimal import Decimal
from pathlib import Path

from atelier_platform.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict

MIGRATIONS = Path(__file__).parent / "migrations"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKETING_", extra="ignore")

    database_url: str
    port: int = 8002
    voucher_price_eur: Decimal = Decimal("9.60")
