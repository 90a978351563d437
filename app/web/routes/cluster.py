from __future__ import annotations

import socket

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.jobs import ClusterStatus
from app.p2p import nodes
from app.web.deps import NodeDep, SettingsDep

router = APIRouter(tags=["cluster"])
health_router = APIRouter(tags=["cluster"])


@health_router.get("/api/health")
def health(request: Request) -> dict[str, str]:
    """Liveness without authentication; it says nothing about the node beyond that it answers."""
    return {"status": "ok", "version": request.app.version}


@router.get("/api/cluster")
def cluster(settings: SettingsDep, node: NodeDep) -> ClusterStatus:
    return nodes.cluster_status(settings, hostname=node.hostname if node else socket.gethostname())


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
