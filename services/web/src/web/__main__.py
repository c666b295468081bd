"""`python -m web`: serve the participant pages (no database, no Kafka: nothing to migrate)."""

import uvicorn
from atelier_platform import logs
from atelier_platform.runtime import HTTP_GRACE

from .app import create_app
from .config import Settings

settings = Settings()
logs.configure("web", settings.log_level)
# No access log: a page address may name a registration, and logs carry no personal data.
# On SIGTERM, requests in hand get the same grace as in every service, then the process exits.
uvicorn.run(
    create_app(settings),
    host=settings.host,
    port=settings.port,
    log_config=None,
    access_log=False,
    timeout_graceful_shutdown=HTTP_GRACE,
)
