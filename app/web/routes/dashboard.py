"""The dashboard page and its assets, served without a token: they hold no data, only the code that asks the
JSON API (which does demand the token) for it."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import FileResponse

STATIC_DIR = FilePath(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["dashboard"], include_in_schema=False)

# Everything the page loads comes from this node: no CDN, no inline script, nothing framed.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The page's ES modules and stylesheet, by name: every .js and .css file of the folder and nothing else (so no
# path leaves it). Module scripts run only when served with a JavaScript MIME type.
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
ASSETS = {p.name: MEDIA_TYPES[p.suffix] for p in sorted(STATIC_DIR.iterdir()) if p.suffix in MEDIA_TYPES}


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get("/static/{name}")
def asset(name: Annotated[str, Path(max_length=64)]) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no asset {name!r}; assets: {', '.join(sorted(ASSETS))}"
        )
    return FileResponse(STATIC_DIR / name, media_type=ASSETS[name], headers=_HEADERS)
