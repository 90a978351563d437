"""The embedded executor: each job in its own ``python -m app.p2p.worker`` subprocess.

Every worker leads a new session (so its process group holds the stage's children too): cancel sends SIGTERM
to the group and SIGKILL after a grace period. The worker's stdout and stderr go to the job's log, whose tail
becomes the error of a job whose process crashed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import app as _app_package
from app.core.config import Settings
from app.p2p import paths
from app.p2p.executors.base import Exit
from app.p2p.store import Claim
from app.p2p.worker import EXIT_BUSY, EXIT_SUPERSEDED

KILL_GRACE_S = 5.0
_PROJECT_ROOT = str(Path(_app_package.__file__).resolve().parent.parent)


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment a job's process needs to reach the same installation as its node."""
    env = dict(os.environ)
    env["ZEROLOOP_HOME"] = str(settings.home.resolve())
    if settings.database_url:
        env["ZEROLOOP_DATABASE_URL"] = settings.database_url
    # Importable even when zeroloop runs from a checkout that is not installed.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PROJECT_ROOT, env.get("PYTHONPATH")) if p)
    return env


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


@dataclass
class _Proc:
    popen: subprocess.Popen
    lease: int
    kill_at: float | None = None


class LocalExecutor:
    """``standby=True`` keeps ``spares`` workers started ahead of need (interpreter, torch and the stages loaded)
    and hands each the next job: each job still runs in a fresh process of its own, without waiting seconds for
    it. One spare per slot, so jobs launched together (a cycle's selfplay split into parts) all start warm."""

    name = "local"

    def __init__(self, settings: Settings, *, standby: bool = True, spares: int = 1):
        if spares < 1:
            raise ValueError(f"spares must be >= 1, got {spares}")
        self.settings = settings
        self.standby = standby
        self.spares = spares
        self.wakeup: Callable[[], None] | None = None
        self._procs: dict[str, _Proc] = {}
        self._spares: list[subprocess.Popen] = []
        self._lock = threading.Lock()

    def launch(self, claim: Claim) -> None:
        popen = self._hand_over(claim)
        if popen is None:
            with open(paths.log_path(self.settings, claim.job_id), "ab") as log:
                popen = self._spawn(
                    [claim.job_id, "--lease", str(claim.lease)], stdin=subprocess.DEVNULL, output=log
                )
        with self._lock:
            self._procs[claim.job_id] = _Proc(popen, claim.lease)
        threading.Thread(target=self._watch, args=(popen,), name=f"watch-{claim.job_id}", daemon=True).start()
        if self.standby:
            with self._lock:
                missing = self.spares - len(self._spares)
            for _ in range(missing):
                spare = self._spawn(["--standby"], stdin=subprocess.PIPE, output=subprocess.DEVNULL)
                with self._lock:
                    self._spares.append(spare)

    def _spawn(self, args: list[str], *, stdin: int, output: object) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "app.p2p.worker", *args, "--parent-pid", str(os.getpid())],
            stdin=stdin,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=worker_env(self.settings),
            start_new_session=True,
        )

    def _hand_over(self, claim: Claim) -> subprocess.Popen | None:
        """Give the job to the oldest standby worker alive; None when there is none to take it."""
        with self._lock:
            alive = [p for p in self._spares if p.poll() is None]
            spare = alive.pop(0) if alive else None
            self._spares = alive
        if spare is None:
            return None
        try:
            spare.stdin.write(f"{claim.job_id} {claim.lease}\n".encode())
            spare.stdin.close()
        except OSError:  # it died just now: start the job the ordinary way
            _signal_group(spare.pid, signal.SIGKILL)
            spare.wait()
            return None
        return spare

    def _stop_spares(self) -> None:
        with self._lock:
            spares, self._spares = self._spares, []
        for spare in spares:
            spare.stdin.close()
            # Killed rather than left to see EOF: one still importing torch would linger for seconds.
            _signal_group(spare.pid, signal.SIGKILL)
            spare.wait()

    def _watch(self, popen: subprocess.Popen) -> None:
        # Wake the node the moment a worker exits, so its slot is reused now rather than at the next tick.
        popen.wait()
        if self.wakeup is not None:
            self.wakeup()

    def running(self) -> dict[str, int]:
        with self._lock:
            return {job_id: p.lease for job_id, p in self._procs.items()}

    def poll(self) -> list[Exit]:
        exits = []
        now = time.monotonic()
        with self._lock:
            for job_id, proc in list(self._procs.items()):
                rc = proc.popen.poll()
                if rc is None:
                    if proc.kill_at is not None and now >= proc.kill_at:
                        _signal_group(proc.popen.pid, signal.SIGKILL)
                    continue
                del self._procs[job_id]
                exits.append(_exit(job_id, proc, rc))
        return exits

    def cancel(self, job_id: str) -> None:
        with self._lock:
            proc = self._procs.get(job_id)
            if proc is None or proc.kill_at is not None:
                return
            proc.kill_at = time.monotonic() + KILL_GRACE_S
            _signal_group(proc.popen.pid, signal.SIGTERM)

    def stop_all(self, timeout: float) -> list[Exit]:
        self._stop_spares()
        with self._lock:
            procs = dict(self._procs)
        for proc in procs.values():
            _signal_group(proc.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait()
        with self._lock:
            for job_id in procs:
                self._procs.pop(job_id, None)
        return [_exit(job_id, proc, proc.popen.returncode) for job_id, proc in procs.items()]

    def close(self) -> None:
        self.stop_all(KILL_GRACE_S)


def _exit(job_id: str, proc: _Proc, rc: int) -> Exit:
    if rc in (0, EXIT_SUPERSEDED):
        return Exit(job_id, proc.lease, ok=True)
    if rc == EXIT_BUSY:
        return Exit(job_id, proc.lease, ok=False, reason="another process still held the job", requeue=True)
    return Exit(job_id, proc.lease, ok=False, reason=f"worker process {proc.popen.pid} {describe_exit(rc)}")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the worker leads its own session, so its pgid is its pid
