"""The node's side of the fork server (``python -m app.p2p.worker --forkserver``, see ``worker.serve_forks``).

One warm server per executor; each job is a ``Forked`` handle with the part of ``Popen``'s interface the executor
uses (``pid``, ``poll``, ``wait``, ``returncode``), fed by the server's ``started``/``exit`` lines. A job handed
over is running as far as the node is concerned before its pid is known (the server may still be loading);
signals sent until then are delivered once it is.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable

from app.p2p.worker import EXIT_BUSY


def signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # a job leads its own session, so its pgid is its pid


class Forked:
    """One job's process, forked by the server."""

    def __init__(self, job_id: str):
        self.job_id = job_id
        self.pid: int | None = None
        self.returncode: int | None = None
        self._exited = threading.Event()
        self._lock = threading.Lock()
        self._signals: list[signal.Signals] = []

    def started(self, pid: int) -> None:
        with self._lock:
            self.pid, pending, self._signals = pid, self._signals, []
        for sig in pending:
            signal_group(pid, sig)

    def exited(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def signal_group(self, sig: signal.Signals) -> None:
        with self._lock:
            if self.pid is None:
                self._signals.append(sig)
                return
            pid = self.pid
        signal_group(pid, sig)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired(f"job {self.job_id}", timeout or 0)
        return self.returncode


class ForkServer:
    """``spawn(args, stdin=, output=)`` starts the server process (the executor's ``_spawn``)."""

    def __init__(self, spawn: Callable[..., subprocess.Popen]):
        self.process = spawn(["--forkserver"], stdin=subprocess.PIPE, output=subprocess.PIPE)
        self.served = 0  # jobs it reported started: a server that dies having served none is broken
        self._lock = threading.Lock()
        self._waiting: dict[str, Forked] = {}  # handed over, pid not yet reported
        self._running: dict[int, Forked] = {}
        self._early: dict[int, int] = {}  # an exit reported before its start line (a job that ended at once)
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return not self._closed and self.process.poll() is None

    def fork(self, job_id: str, lease: int) -> Forked | None:
        """The job's handle, or None when the server is gone (start the job another way)."""
        forked = Forked(job_id)
        with self._lock:
            if self._closed:
                return None
            self._waiting[job_id] = forked
            try:
                self.process.stdin.write(f"{job_id} {lease}\n".encode())
                self.process.stdin.flush()
            except OSError:
                del self._waiting[job_id]
                return None
        return forked

    def _read(self) -> None:
        for raw in self.process.stdout:
            words = raw.decode(errors="replace").split()
            if len(words) == 3 and words[0] == "started":
                self._started(words[1], int(words[2]))
            elif len(words) == 3 and words[0] == "exit":
                self._exit(int(words[1]), int(words[2]))
        self._gone()

    def _started(self, job_id: str, pid: int) -> None:
        with self._lock:
            forked = self._waiting.pop(job_id, None)
            early = self._early.pop(pid, None)
            if forked is not None and early is None:
                self._running[pid] = forked
            self.served += 1
        if forked is not None:
            forked.started(pid)
            if early is not None:
                forked.exited(early)

    def _exit(self, pid: int, code: int) -> None:
        with self._lock:
            forked = self._running.pop(pid, None)
            if forked is None:
                self._early[pid] = code
                return
        forked.exited(code)

    def _gone(self) -> None:
        """The server exited: a job never started is handed back; a started one loses its parent and stops."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = list(self._waiting.values()), {}
            running, self._running = list(self._running.values()), {}
        for forked in waiting:
            forked.exited(EXIT_BUSY)  # re-queued by the node
        for forked in running:
            forked.exited(-signal.SIGKILL)

    def close(self) -> None:
        """Stop the server (its jobs first: the executor's stop_all); an unread EOF would leave it loading."""
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=5)
