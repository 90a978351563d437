"""Build the node's FastAPI app: routers, the token dependency, domain errors mapped to 4xx, the body cap and
error answers that quote their input briefly (``app.web.limits``)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.core.config import Settings, get_settings
from app.core.errors import ZeroloopError, http_status
from app.p2p.jobtypes import JobConfigInvalid, JobTypeUnavailable
from app.p2p.metrics import JobMetrics
from app.p2p.node import Node
from app.web.deps import require_token
from app.web.limits import MAX_BODY_BYTES, BodyLimit, brief_errors, brief_message
from app.web.responses import PROTECTED
from app.web.routes import actions, api_docs, cluster, dashboard, games, jobs, loop, runs, views

VERSION = "0.1.0"


def create_app(settings: Settings | None = None, node: Node | None = None) -> FastAPI:
    """The API of ``node`` (started and stopped with the app), or an API-only app when ``node`` is None."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if node is not None:
            await run_in_threadpool(node.start)
        try:
            yield
        finally:
            if node is not None:
                await run_in_threadpool(node.stop)

    app = FastAPI(
        title="zeroloop node",
        version=VERSION,
        summary="Job API of a zeroloop node: submit, watch and cancel selfplay, training and evaluation jobs.",
        lifespan=lifespan,
        docs_url=None,  # served by routes.api_docs with its assets from this node, not from a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.node = node
    app.state.metrics = node.metrics if node is not None else JobMetrics(settings, socket.gethostname())

    protected = {"dependencies": [Depends(require_token)], "responses": PROTECTED}
    app.include_router(cluster.health_router)
    app.include_router(cluster.router, **protected)
    app.include_router(jobs.router, prefix="/api", **protected)
    app.include_router(views.router, prefix="/api", **protected)
    app.include_router(loop.router, prefix="/api", **protected)
    app.include_router(runs.router, prefix="/api", **protected)
    app.include_router(actions.router, prefix="/api", **protected)
    app.include_router(games.router, prefix="/api", **protected)
    app.include_router(dashboard.router)  # the page and its assets; the data it shows needs the token
    app.include_router(api_docs.router)  # like the page: no data, so no token
    _add_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer, with the refused input quoted briefly.
        return JSONResponse({"detail": jsonable_encoder(brief_errors(exc.errors()))}, status_code=422)

    @app.exception_handler(JobConfigInvalid)
    async def _config_invalid(request: Request, exc: JobConfigInvalid) -> JSONResponse:
        # The same shape as FastAPI's own validation errors, located inside the request body's config.
        detail = [{**e, "loc": ["body", "config", *e["loc"]]} for e in brief_errors(exc.errors)]
        return JSONResponse({"detail": detail, "message": brief_message(str(exc))}, status_code=422)

    @app.exception_handler(JobTypeUnavailable)
    async def _type_unavailable(request: Request, exc: JobTypeUnavailable) -> JSONResponse:
        return JSONResponse({"detail": brief_message(str(exc))}, status_code=503)

    async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
        code = http_status(exc)
        if code is None:  # not a known domain error: a bug, and it should look like one
            raise exc
        return JSONResponse({"detail": brief_message(str(exc))}, status_code=code)

    app.add_exception_handler(ZeroloopError, _domain_error)
    app.add_exception_handler(ValueError, _domain_error)
