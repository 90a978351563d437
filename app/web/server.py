"""Start a node: bind the socket, build the executor and the node, and serve the API under uvicorn."""

from __future__ import annotations

import logging
import socket

import uvicorn

from app.core.config import Settings
from app.core.errors import ZeroloopError
from app.p2p.executors import build_executor
from app.p2p.node import Node
from app.web.address import advertised_url, url_of
from app.web.main import create_app


class PortUnavailable(ZeroloopError, OSError):
    """The address the node should listen on is taken or not this machine's."""


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (read it back with ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortUnavailable(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port (0 picks a free one)"
        ) from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    settings: Settings,
    sock: socket.socket,
    *,
    slots: int | None,
    ray_address: str | None = None,
    log_level: str = "warning",
    announce=print,
) -> None:
    """Serve until interrupted (SIGINT/SIGTERM); the node's jobs are stopped and re-queued on the way out."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host, port = sock.getsockname()[:2]
    node_id = settings.node_id or f"{socket.gethostname()}:{port}"
    executor = build_executor(settings, ray_address)
    slots = executor.default_slots() if slots is None else slots
    address = advertised_url(sock)  # others dial this: never the wildcard 0.0.0.0 a public bind listens on
    node = Node(settings, executor, node_id=node_id, slots=slots, address=address)
    app = create_app(settings, node)
    config = uvicorn.Config(
        app, log_level=log_level, lifespan="on", access_log=False, timeout_graceful_shutdown=10
    )
    listening = url_of(host, port)
    where = listening if address == listening else f"{listening}, advertised as {address}"
    announce(
        f"zeroloop node {node_id} listening on {where} "
        f"(slots {slots}, {executor.name} executor, data {settings.home.resolve()})"
    )
    uvicorn.Server(config).run(sockets=[sock])
