"""/docs and /asyncapi without internet: their scripts and styles come from pinned npm packages served here.

`deploy/local/npm_assets.sh` (run by `make install`) unpacks swagger-ui-dist and @asyncapi/react-component
into `.local/cache/npm/<name>@<version>/`; an image carries the files the pages load (`PAGE_FILES`), in the
same layout, in the folder its ATELIER_DOCS_ASSETS names.
"""

from __future__ import annotations

import os
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from faststream.specification.asyncapi.site import ASYNCAPI_CSS_DEFAULT_URL, ASYNCAPI_JS_DEFAULT_URL

SWAGGER_UI = "swagger-ui-dist@5.32.0"
ASYNCAPI_COMPONENT = "@asyncapi+react-component@3.1.5"
PREFIX = "/docs-assets"
SWAGGER_JS, SWAGGER_CSS, SWAGGER_FAVICON = "swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"
ASYNCAPI_JS, ASYNCAPI_CSS = "browser/standalone/index.js", "styles/default.min.css"
# What the pages load, with the licences that travel with them: all an image needs of each package.
PAGE_FILES = {
    SWAGGER_UI: (SWAGGER_JS, SWAGGER_CSS, SWAGGER_FAVICON, "LICENSE", "NOTICE", f"{SWAGGER_JS}.LICENSE.txt"),
    ASYNCAPI_COMPONENT: (ASYNCAPI_JS, ASYNCAPI_CSS, "LICENSE", f"{ASYNCAPI_JS}.LICENSE.txt"),
}


def assets_root() -> Path:
    default = Path(__file__).resolve().parents[4] / ".local" / "cache" / "npm"
    return Path(os.environ.get("ATELIER_DOCS_ASSETS") or default)


def serve_docs_offline(app: FastAPI) -> None:
    """Call once the app's routes exist: /docs and /asyncapi then load nothing from a CDN."""
    root = assets_root()
    if not (root / SWAGGER_UI).is_dir() or not (root / ASYNCAPI_COMPONENT).is_dir():
        # An image built without them keeps the CDN pages rather than blank ones.
        structlog.get_logger("docs").warning("docs assets missing, pages load from a CDN", folder=str(root))
        return
    app.mount(f"{PREFIX}/swagger", StaticFiles(directory=root / SWAGGER_UI, check_dir=False))
    app.mount(f"{PREFIX}/asyncapi", StaticFiles(directory=root / ASYNCAPI_COMPONENT, check_dir=False))
    docs_url, openapi_url = app.docs_url, app.openapi_url
    if docs_url is None or openapi_url is None:  # an app without a Swagger page (the participant pages)
        return
    asyncapi_page = _take_route(app, "/asyncapi")
    _take_route(app, docs_url)

    @app.get(docs_url, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{PREFIX}/swagger/{SWAGGER_JS}",
            swagger_css_url=f"{PREFIX}/swagger/{SWAGGER_CSS}",
            swagger_favicon_url=f"{PREFIX}/swagger/{SWAGGER_FAVICON}",
        )

    if asyncapi_page is not None:
        original = asyncapi_page.endpoint

        @app.get("/asyncapi", tags=["contracts"], response_class=HTMLResponse, summary="AsyncAPI document, as a page")
        async def asyncapi() -> str:
            html = await original()
            html = html.replace(ASYNCAPI_JS_DEFAULT_URL, f"{PREFIX}/asyncapi/{ASYNCAPI_JS}")
            html = html.replace(ASYNCAPI_CSS_DEFAULT_URL, f"{PREFIX}/asyncapi/{ASYNCAPI_CSS}")
            # FastStream's page also links asyncapi.com's favicons: nothing may leave the machine.
            return "\n".join(line for line in html.splitlines() if "https://www.asyncapi.com/favicon" not in line)


def _take_route(app: FastAPI, path: str | None) -> APIRoute | None:
    """Remove the route at `path` (GET) and return it, so a page can be served in its place."""
    for route in list(app.router.routes):
        if getattr(route, "path", None) == path and "GET" in getattr(route, "methods", set()):
            app.router.routes.remove(route)
            return route if isinstance(route, APIRoute) else None
    return None
