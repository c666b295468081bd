from atelier_platform.serve import run_service

from .app import create_app
from .config import MIGRATIONS, Settings
from .entrypoints import cli

settings = Settings()
run_service(
    "registration",
    settings,
    settings.database_url,
    MIGRATIONS,
    lambda: create_app(settings),
    settings.port,
    commands={"seed": cli.seed, "report": cli.report, "proof-key": cli.proof_key},
)
