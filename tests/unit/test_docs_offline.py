"""/docs and /asyncapi load their scripts from the service itself when the npm assets are there."""

from __future__ import annotations

import httpx
from atelier_platform import docs_assets
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from faststream.specification.asyncapi.site import ASYNCAPI_CSS_DEFAULT_URL, ASYNCAPI_JS_DEFAULT_URL


def app_with_pages() -> FastAPI:
    app = FastAPI(title="Atelier test")

    @app.get("/asyncapi", response_class=HTMLResponse)
    async def asyncapi() -> str:
        return f'<link href="{ASYNCAPI_CSS_DEFAULT_URL}"><script src="{ASYNCAPI_JS_DEFAULT_URL}"></script>'

    return app


async def pages(app: FastAPI, *paths: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://service") as client:
        return [await client.get(path) for path in paths]


async def test_with_the_assets_unpacked_no_page_refers_to_another_host(tmp_path, monkeypatch):
    (tmp_path / docs_assets.SWAGGER_UI).mkdir()
    (tmp_path / docs_assets.SWAGGER_UI / "swagger-ui-bundle.js").write_text("window.SwaggerUIBundle = 1;")
    (tmp_path / docs_assets.ASYNCAPI_COMPONENT / "styles").mkdir(parents=True)
    monkeypatch.setenv("ATELIER_DOCS_ASSETS", str(tmp_path))
    app = app_with_pages()
    docs_assets.serve_docs_offline(app)
    docs, asyncapi, script = await pages(app, "/docs", "/asyncapi", "/docs-assets/swagger/swagger-ui-bundle.js")
    for page in (docs, asyncapi):
        assert page.status_code == 200 and "https://" not in page.text, page.text
    assert 'src="/docs-assets/swagger/swagger-ui-bundle.js"' in docs.text
    assert 'src="/docs-assets/asyncapi/browser/standalone/index.js"' in asyncapi.text
    assert script.text == "window.SwaggerUIBundle = 1;"


async def test_without_the_assets_the_pages_stay_as_they_were(tmp_path, monkeypatch):
    monkeypatch.setenv("ATELIER_DOCS_ASSETS", str(tmp_path / "missing"))
    app = app_with_pages()
    docs_assets.serve_docs_offline(app)
    docs, asyncapi = await pages(app, "/docs", "/asyncapi")
    assert "cdn.jsdelivr.net" in docs.text and ASYNCAPI_JS_DEFAULT_URL in asyncapi.text
