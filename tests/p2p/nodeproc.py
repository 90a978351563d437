"""Helpers for tests that run real nodes: a node as a subprocess (``python -m app serve``) on a free loopback
port, and ``eventually`` for conditions that other processes make true."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.integration.p2p_client import P2PIntegration


def eventually(check, timeout: float = 60.0, what: str = "condition"):
    """Poll ``check`` until it returns something truthy (returned), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NodeProcess:
    def __init__(
        self,
        home: Path,
        *,
        port: int | None = None,
        slots: int = 1,
        token: str | None = None,
        node_id: str | None = None,
        extra_args: tuple[str, ...] = (),
    ):
        self.home = Path(home)
        self.port = port or free_port()
        self.slots, self.token, self.node_id, self.extra_args = slots, token, node_id, extra_args
        self.proc: subprocess.Popen | None = None
        self.log = self.home.parent / f"node-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> NodeProcess:
        args = [sys.executable, "-m", "app", "--home", str(self.home), "serve", "--port", str(self.port)]
        args += ["--slots", str(self.slots), *self.extra_args]
        if self.node_id:
            args += ["--node-id", self.node_id]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROLOOP_")}
        if self.token:
            env["ZEROLOOP_TOKEN"] = self.token
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"node did not answer within {timeout}s:\n{self.log.read_text()}")

    def node_id_guess(self) -> str:
        """The id the node gives itself unless told otherwise: hostname:port."""
        return self.node_id or f"{socket.gethostname()}:{self.port}"

    def client(self, **kwargs) -> P2PIntegration:
        kwargs.setdefault("token", self.token)
        return P2PIntegration(port=self.port, **kwargs)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
