"""The body of a remote job, on whichever machine Ray placed it: a scratch installation, the stage, the outcome.

The task never sees the node's data directory or database. It makes a private installation in a temporary
directory (its own SQLite), installs the job's inputs there (``RemoteAdapter.materialize``), runs the stage
against it and hands back what the stage made (``collect``); the directory is removed when the task ends. Its
progress and heartbeats go to the node's mailbox actor (``executors.ray_reports.Mailbox``), which only the node
reads: the node writes them to the job's row, fenced by the lease, and cancels the task when it is refused.
A stage's exception is part of the outcome (the job failed); an exception out of this function is the task's
own failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.core.config import Settings, reset_settings
from app.p2p.jobtypes import get_job_type
from app.p2p.transfer import Blob, RemoteOutcome, RemoteWork, remote_adapter
from app.p2p.worker import HEARTBEAT_S, PROGRESS_MIN_INTERVAL_S, format_error, to_jsonable
from app.storage.db import dispose_engines


class MailboxReporter:
    """The stage's ``progress`` callable on the remote side: throttled reports, the latest pending one sent with
    the next heartbeat. ``mailbox`` is the node's actor handle (anything with ``report.remote``)."""

    def __init__(self, mailbox: Any, job_id: str, lease: int):
        self.mailbox, self.job_id, self.lease = mailbox, job_id, lease
        self._lock = threading.Lock()
        self._last = 0.0
        self._pending: tuple[float, str] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_loop, name=f"beat-{job_id}", daemon=True)

    def start(self, host: str) -> None:
        self._send(started={"pid": os.getpid(), "host": host})
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < PROGRESS_MIN_INTERVAL_S and fraction < 1.0:
                self._pending = (fraction, str(message))
                return
            self._pending, self._last = None, now
        self._send(progress=(float(fraction), str(message)))

    def _beat_loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with self._lock:
                pending, self._pending = self._pending, None
                self._last = time.monotonic()
            self._send(progress=pending)

    def _send(self, **report: Any) -> None:
        # Fire and forget: the node reads the mailbox on its own schedule, and a lost beat only ages the lease.
        self.mailbox.report.remote(self.job_id, self.lease, report)


def worker_host() -> str:
    """This machine as the job row shows it: hostname and the address Ray knows it by (hostnames may repeat)."""
    try:
        import ray  # only present, and only meaningful, inside a Ray task

        address = ray.util.get_node_ip_address()
    except Exception:
        address = "?"
    return f"{socket.gethostname()}/{address}"


@contextmanager
def scratch_installation(job_id: str) -> Iterator[Settings]:
    """A private installation for one job, also made the process-wide one (stage code may read it), then removed."""
    directory = Path(tempfile.mkdtemp(prefix=f"zeroloop-job-{job_id}-"))
    saved = {k: os.environ.get(k) for k in ("ZEROLOOP_HOME", "ZEROLOOP_DATABASE_URL")}
    os.environ["ZEROLOOP_HOME"] = str(directory)
    os.environ.pop("ZEROLOOP_DATABASE_URL", None)
    reset_settings()
    try:
        yield Settings(home=directory, database_url=None, host="127.0.0.1", token=None)
    finally:
        dispose_engines()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
        shutil.rmtree(directory, ignore_errors=True)


def run_remote(work: RemoteWork, mailbox: Any, *inputs: Blob) -> RemoteOutcome:
    """Run ``work`` here with ``inputs`` (Ray resolves them from the object store) and return its outcome."""
    adapter = remote_adapter(work.job_type)
    if adapter is None:
        raise ValueError(f"job type {work.job_type!r} does not run remotely; its node runs it")
    reporter = MailboxReporter(mailbox, work.job_id, work.lease)
    reporter.start(worker_host())
    clock = _Clock()
    try:
        with scratch_installation(work.job_id) as scratch:
            try:
                jt = get_job_type(work.job_type)
                cfg = jt.config_model().model_validate(work.config)
                adapter.materialize(scratch, work.config, list(inputs))
                clock.lap("materialize")
                result = to_jsonable(jt.runner()(cfg, settings=scratch, progress=reporter))
                clock.lap("stage")
                outcome = adapter.collect(scratch, work.config, result)
                clock.lap("collect")
            except Exception as exc:
                return RemoteOutcome(error=format_error(exc))
        return replace(outcome, extra={**outcome.extra, "seconds": clock.laps})
    finally:
        reporter.stop()


class _Clock:
    """Seconds spent in each part of the task (the node logs them: what the seam costs beside the stage)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 4)
        self._last = now
