"""The embedded executor: each job in its own process, forked by a warm fork server (``python -m app.p2p.worker
--forkserver``) or, without one, started as ``python -m app.p2p.worker JOB_ID``.

Every job's process leads a new session (so its process group holds the stage's children too): cancel sends SIGTERM
to the group and SIGKILL after a grace period. The worker's stdout and stderr go to the job's log, whose tail
becomes the error of a job whose process crashed.
"""

from __future__ import annotations

import functools
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
from app.p2p.executors.forkserver import Forked, ForkServer, signal_group
from app.p2p.store import Claim
from app.p2p.worker import EXIT_BUSY, EXIT_SUPERSEDED

KILL_GRACE_S = 5.0
FORK_SERVER_LOG = "forkserver"  # <home>/jobs/logs/forkserver.log
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
    popen: subprocess.Popen | Forked
    lease: int
    kill_at: float | None = None

    def signal(self, sig: signal.Signals) -> None:
        if isinstance(self.popen, Forked):
            self.popen.signal_group(sig)
        else:
            signal_group(self.popen.pid, sig)


class LocalExecutor:
    """``standby=True`` forks each job from a warm fork server (interpreter, torch and the stages loaded once;
    see ``worker.serve_forks``): each job still runs in a fresh process of its own, started in milliseconds, and
    jobs launched together all start warm. A server that dies is replaced at the next job; one that dies before
    serving any job is given up on, and jobs start as plain worker processes, whose log then says why."""

    name = "local"

    def __init__(self, settings: Settings, *, standby: bool = True):
        self.settings = settings
        self.standby = standby
        self.wakeup: Callable[[], None] | None = None
        self._procs: dict[str, _Proc] = {}
        self._server: ForkServer | None = None
        self._lock = threading.Lock()

    def default_slots(self) -> int:
        """Half the cores."""
        return max(1, (os.cpu_count() or 2) // 2)

    def launch(self, claim: Claim) -> None:
        popen = self._fork(claim) if self.standby else None
        if popen is None:
            with open(paths.log_path(self.settings, claim.job_id), "ab") as log:
                popen = self._spawn(
                    [claim.job_id, "--lease", str(claim.lease)], stdin=subprocess.DEVNULL, output=log
                )
        with self._lock:
            self._procs[claim.job_id] = _Proc(popen, claim.lease)
        threading.Thread(target=self._watch, args=(popen,), name=f"watch-{claim.job_id}", daemon=True).start()

    def _spawn(
        self, args: list[str], *, stdin: int, output: object, errors: object = subprocess.STDOUT
    ) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "app.p2p.worker", *args, "--parent-pid", str(os.getpid())],
            stdin=stdin,
            stdout=output,
            stderr=errors,
            env=worker_env(self.settings),
            start_new_session=True,
        )

    def _fork(self, claim: Claim) -> Forked | None:
        """The job forked by the fork server (started now if there is none alive); None to start it plainly."""
        with self._lock:
            dead, server = None, self._server
            if server is not None and not server.alive:
                dead, server = server, None
                self.standby = bool(dead.served)  # one that died before serving a job cannot load here
            if server is None and self.standby:
                server = self._server = self._start_server()
            elif server is None:
                self._server = None
        if dead is not None:
            dead.close()
        return server.fork(claim.job_id, claim.lease) if server is not None else None

    def _start_server(self) -> ForkServer:
        # Its own errors (a stage that cannot load) go to a log of its own; each job's go to the job's log.
        with open(paths.log_path(self.settings, FORK_SERVER_LOG), "ab") as log:
            return ForkServer(functools.partial(self._spawn, errors=log))

    def _stop_server(self) -> None:
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            server.close()

    def _watch(self, popen: subprocess.Popen | Forked) -> None:
        # Wake the node the moment a job's process exits, so its slot is reused now rather than at the next tick.
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
                        proc.signal(signal.SIGKILL)
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
            proc.signal(signal.SIGTERM)

    def stop_all(self, timeout: float) -> list[Exit]:
        with self._lock:
            procs = dict(self._procs)
        for proc in procs.values():
            proc.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in procs.values():
            try:
                proc.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.signal(signal.SIGKILL)
                proc.popen.wait()
        with self._lock:
            for job_id in procs:
                self._procs.pop(job_id, None)
        self._stop_server()  # after its jobs: it reports their exits
        return [_exit(job_id, proc, proc.popen.returncode) for job_id, proc in procs.items()]

    def close(self) -> None:
        self.stop_all(KILL_GRACE_S)


def _exit(job_id: str, proc: _Proc, rc: int) -> Exit:
    if rc in (0, EXIT_SUPERSEDED):
        return Exit(job_id, proc.lease, ok=True)
    if rc == EXIT_BUSY:
        return Exit(job_id, proc.lease, ok=False, reason="another process still held the job", requeue=True)
    return Exit(job_id, proc.lease, ok=False, reason=f"worker process {proc.popen.pid} {describe_exit(rc)}")
