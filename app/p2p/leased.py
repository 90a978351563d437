"""What the process running a job writes to its row (and a node, for a process that ended without a word).

Every write here is *fenced*: it touches the row only while the job is still running under the lease the
writer was given, and returns False otherwise, which tells the worker it was cancelled or superseded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from app.core.config import Settings
from app.core.jobs import JobPublic, JobState
from app.p2p.store import MAX_MESSAGE, T, failed_columns, to_public
from app.storage.base import utcnow
from app.storage.db import get_engine, read_engine


def set_ray_task(settings: Settings, job_id: str, lease: int, task: str) -> bool:
    return _fenced_update(settings, job_id, lease, ray_task=task[:100])


def fail_lost(settings: Settings, job_id: str, lease: int, reason: str) -> bool:
    """The process running the job ended without recording an outcome: the job failed with ``reason``."""
    return _fenced_update(settings, job_id, lease, **failed_columns(reason))


def _fenced_update(settings: Settings, job_id: str, lease: int, **values: Any) -> bool:
    values.setdefault("updated_at", utcnow())
    with get_engine(settings).begin() as conn:
        result = conn.execute(
            update(T)
            .where(T.c.id == job_id, T.c.state == JobState.RUNNING.value, T.c.lease == lease)
            .values(**values)
        )
        return result.rowcount == 1


def load_for_run(settings: Settings, job_id: str, lease: int) -> JobPublic | None:
    """The job if it is running under ``lease`` (the worker's go-ahead), else None."""
    with read_engine(settings).connect() as conn:
        row = conn.execute(select(T).where(T.c.id == job_id)).mappings().one_or_none()
    if row is None or row["state"] != JobState.RUNNING.value or row["lease"] != lease:
        return None
    return to_public(row)


def worker_started(settings: Settings, job_id: str, lease: int, *, pid: int, host: str) -> bool:
    now = utcnow()
    return _fenced_update(
        settings, job_id, lease, pid=pid, worker_host=host, heartbeat_at=now, message="started"
    )


def report_progress(settings: Settings, job_id: str, lease: int, fraction: float, message: str) -> bool:
    fraction = min(1.0, max(0.0, float(fraction)))
    now = utcnow()
    return _fenced_update(
        settings, job_id, lease, progress=fraction, message=message[:MAX_MESSAGE], heartbeat_at=now
    )


def heartbeat(settings: Settings, job_id: str, lease: int) -> bool:
    return _fenced_update(settings, job_id, lease, heartbeat_at=utcnow())


def record_success(settings: Settings, job_id: str, lease: int, result: Any) -> bool:
    now = utcnow()
    return _fenced_update(
        settings,
        job_id,
        lease,
        state=JobState.SUCCEEDED.value,
        result=result,
        progress=1.0,
        message="succeeded",
        finished_at=now,
        heartbeat_at=now,
    )


def record_failure(settings: Settings, job_id: str, lease: int, error: str) -> bool:
    columns = failed_columns(error)
    return _fenced_update(settings, job_id, lease, **columns, heartbeat_at=columns["finished_at"])
