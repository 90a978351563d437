"""Per-job files under the data directory: the job's log and the lock its running process holds.

The lock answers "is a process still running this job on this machine?" without trusting pids (which the
system reuses): the worker holds an exclusive ``flock`` for as long as it lives and the kernel releases it
the moment the process dies, however it dies.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from typing import IO

from app.core.config import Settings
from app.storage.base import utcnow


def log_path(settings: Settings, job_id: str) -> Path:
    return settings.path("jobs", "logs", f"{job_id}.log")


def lock_path(settings: Settings, job_id: str) -> Path:
    return settings.path("jobs", "locks", f"{job_id}.lock")


def append_log(settings: Settings, job_id: str, line: str) -> None:
    with open(log_path(settings, job_id), "a", encoding="utf-8") as fh:
        fh.write(f"{utcnow().isoformat(timespec='milliseconds')} {line}\n")


def log_tail(settings: Settings, job_id: str, max_chars: int = 4000) -> str:
    path = log_path(settings, job_id)
    if not path.exists():
        return ""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - max_chars))
        return fh.read().decode("utf-8", errors="replace")


def take_lock(settings: Settings, job_id: str, *, wait_s: float = 1.0) -> IO[str] | None:
    """Hold the job's lock for as long as the returned file stays open; None if another process holds it.

    Waits up to ``wait_s`` because a node probing the lock (``lock_held``) holds it for an instant.
    """
    fh = open(lock_path(settings, job_id), "a")  # noqa: SIM115 - the open file *is* the lock
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fh
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                return None
            time.sleep(0.02)


def lock_held(settings: Settings, job_id: str) -> bool:
    """True while a live process on this machine holds the job's lock."""
    path = lock_path(settings, job_id)
    if not path.exists():
        return False
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False
