"""`python -m web`: serve the participant pages (no database, no Kafka: nothing to migrate)."""

from atelier_platform import logs
from atelier_platform.serve import serve_pages

from .app import create_app
from .config import Settings

settings = Settings()
logs.configure("web", settings.log_level)
serve_pages(create_app(settings), settings.host, settings.port)
