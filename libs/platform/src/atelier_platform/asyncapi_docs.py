"""The committed AsyncAPI documents: one per service and one for the whole system.

`python -m atelier_platform.asyncapi_docs FOLDER SERVICE...` writes them. Each service is
named by its package, which has `app.create_app(settings)` and `config.Settings`; the app is
built with the settings' defaults, without reading the environment or connecting anywhere,
so the documents do not depend on the machine that writes them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI

from .asyncapi import render, service_document, system_document

SYSTEM = "atelier"


def documented_app(service: str) -> FastAPI:
    app_module = importlib.import_module(f"{service}.app")
    config = importlib.import_module(f"{service}.config")
    app: FastAPI = app_module.create_app(config.Settings.model_construct())
    return app


def documents(services: Sequence[str]) -> dict[str, str]:
    """File name → content of every document."""
    apps = {service: documented_app(service) for service in services}
    files = {f"{service}.json": render(service_document(app)) for service, app in apps.items()}
    files[f"{SYSTEM}.json"] = render(system_document(apps.values()))
    return files


def stale_documents(folder: Path, services: Sequence[str]) -> list[str]:
    """Documents in `folder` that are missing or differ from what the apps generate."""
    return [
        name
        for name, text in documents(services).items()
        if not (folder / name).exists() or (folder / name).read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atelier_platform.asyncapi_docs", description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("services", nargs="+")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    changed = [name for name, text in documents(args.services).items() if _write(args.folder / name, text)]
    print(f"{len(changed)} AsyncAPI document(s) updated in {args.folder}")
    return 0


def _write(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


if __name__ == "__main__":
    sys.exit(main())
