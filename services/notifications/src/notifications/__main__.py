from atelier_platform.serve import run_service

from .app import create_app
from .config import MIGRATIONS, Settings

run_service("notifications", Settings, create_app, MIGRATIONS)
