"""The API's documentation pages, Swagger UI at ``/docs`` and ReDoc at ``/redoc``, with their scripts, styles and
icon served by this node from the ``fastapi-offline`` package: FastAPI's own pages load them from a CDN and are
blank on a machine without internet access."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS_DIR = FilePath(str(files("fastapi_offline") / "static"))
ASSETS_URL = "/docs/assets"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

router = APIRouter(tags=["docs"], include_in_schema=False)


def _page(request: Request, viewer: str) -> dict[str, str]:
    """The arguments both viewers take: the schema's URL and the page title, under the app's root path."""
    return {
        "openapi_url": _url(request, request.app.openapi_url),
        "title": f"{request.app.title} - {viewer}",
    }


def _url(request: Request, path: str) -> str:
    return request.scope.get("root_path", "") + path


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        **_page(request, "Swagger UI"),
        swagger_js_url=_url(request, f"{ASSETS_URL}/swagger-ui-bundle.js"),
        swagger_css_url=_url(request, f"{ASSETS_URL}/swagger-ui.css"),
        swagger_favicon_url=_url(request, f"{ASSETS_URL}/favicon.png"),
        oauth2_redirect_url=_url(request, OAUTH2_REDIRECT_URL),
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
    )


@router.get(OAUTH2_REDIRECT_URL)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        **_page(request, "ReDoc"),
        with_google_fonts=False,  # fonts.googleapis.com is not reached from a node without internet
        redoc_js_url=_url(request, f"{ASSETS_URL}/redoc.standalone.js"),
        redoc_favicon_url=_url(request, f"{ASSETS_URL}/favicon.png"),
    )


@router.get(ASSETS_URL + "/{name}")
def asset(name: Annotated[str, Path(max_length=64)]) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no asset {name!r}; assets: {', '.join(sorted(ASSETS))}"
        )
    return FileResponse(
        ASSETS_DIR / name, media_type=ASSETS[name], headers={"Cache-Control": "max-age=86400"}
    )
