from atelier_platform.serve import run_service

from .app import create_app
from .config import MIGRATIONS, Settings
from .import_stations import import_stations_command

run_service("ticketing", Settings, create_app, MIGRATIONS, commands={"import-stations": import_stations_command})
