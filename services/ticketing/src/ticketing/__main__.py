import sys
from pathlib import Path

from .config import MIGRATIONS, DatabaseSettings, Settings

if sys.argv[1:2] == ["import-stations"]:
    import structlog
    from atelier_platform import logs
    from atelier_platform.db import migrate

    from .import_stations import import_stations

    database = DatabaseSettings()
    logs.configure("ticketing", database.log_level)
    migrate(database.database_url, MIGRATIONS)
    try:
        import_stations(database.database_url, Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    except (OSError, ValueError) as exc:  # unreadable or refused: the current list stays
        structlog.get_logger("ticketing").error("stations not imported", error=str(exc))
        sys.exit(1)
else:
    from atelier_platform.serve import run_service

    from .app import create_app

    settings = Settings()
    run_service("ticketing", settings, settings.database_url, MIGRATIONS, lambda: create_app(settings), settings.port)
