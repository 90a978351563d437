"""The API's documentation pages work offline: every script, style and icon they name is served by the node."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.web.main import create_app
from app.web.routes.api_docs import ASSETS
from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
URL_ATTRIBUTE = re.compile(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""")


@pytest.fixture
def api(home):
    with TestClient(
        create_app(Settings(home=home, token="docs-token")), raise_server_exceptions=False
    ) as client:
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_name_only_local_urls_and_each_answers(api, page):
    r = api.get(page)
    assert r.status_code == 200
    assert not re.findall(r"(?:https?:)?//[a-z]", r.text), "the page names another host"
    urls = URL_ATTRIBUTE.findall(r.text)
    assert "/openapi.json" in urls and any(u.endswith(".js") for u in urls)
    for url in urls:
        assert url.startswith("/"), url
        assert api.get(url).status_code == 200, url


def test_docs_assets_are_served_with_their_types_and_nothing_else(api):
    for name, media_type in ASSETS.items():
        r = api.get(f"/docs/assets/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == media_type and len(r.content) > 100
    r = api.get("/docs/assets/index.html")
    assert r.status_code == 404 and "swagger-ui.css" in r.json()["detail"]
    assert api.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert api.get("/docs/oauth2-redirect").status_code == 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.browser
def test_swagger_ui_renders_the_operations_with_every_other_host_unreachable(home):
    require(os.path.exists(CHROMIUM), "Debian chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(home=home)), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{port}"
    elsewhere: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()

            def only_this_node(route):
                if route.request.url.startswith(origin):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", only_this_node)
            page.goto(f"{origin}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            assert page.locator(".opblock").count() >= 20
            assert "zeroloop node" in page.title()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert elsewhere == []
