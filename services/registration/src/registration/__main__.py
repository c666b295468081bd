from atelier_platform.serve import run_service

from .app import create_app
from .config import MIGRATIONS, Settings
from .entrypoints import cli

run_service(
    "registration",
    Settings,
    create_app,
    MIGRATIONS,
    commands={"seed": cli.seed, "report": cli.report, "proof-key": cli.proof_key},
)
