"""Service functions over the job table; each is one transaction.

Three kinds of writers share the table:
- callers (API, CLI, ``LocalJobs``): ``submit``, ``cancel``;
- nodes: ``claim`` (queued → running, bumps ``lease``), ``fail_lost`` / ``requeue`` for processes that died;
- the process running a job: ``worker_started``, ``report_progress``, ``heartbeat``, ``record_success``,
  ``record_failure``. These are *fenced*: they only touch a row that is still running under the lease they
  were given and return False otherwise, which tells the worker it was cancelled or superseded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, true, update
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InvalidTransition, JobNotFound
from app.core.names import parse_config_key
from app.p2p.jobtypes import get_job_type, validate_config
from app.p2p.schemas import JobCreate, JobPublic, JobsPublic, JobState, Resources
from app.storage.base import utcnow
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow

MAX_MESSAGE = 500
MAX_ERROR = 20_000
MAX_LIST = 1000


@dataclass(frozen=True)
class Claim:
    """A job a node has just claimed: run it under this lease."""

    job_id: str
    lease: int
    type: str
    resources: Resources


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def to_public(row: JobRow) -> JobPublic:
    return JobPublic.model_validate(row, from_attributes=True)


def _not_found(job_id: str) -> JobNotFound:
    return JobNotFound(f"no job with id {job_id!r}; list jobs with GET /api/jobs or `zeroloop jobs list`")


def _get_row(session: Session, job_id: str, *, lock: bool = False) -> JobRow:
    query = select(JobRow).where(JobRow.id == job_id)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).one_or_none()
    if row is None:
        raise _not_found(job_id)
    return row


# -- callers ---------------------------------------------------------------------------------------------


def submit(settings: Settings, create: JobCreate) -> JobPublic:
    """Validate the config against its job type and queue the job; the stored config has defaults filled in."""
    cfg, key = validate_config(create.type, create.config)
    resources = create.resources or get_job_type(create.type).resources
    now = utcnow()
    row = JobRow(
        id=new_job_id(),
        type=create.type,
        config=cfg.model_dump(mode="json"),
        config_key=key,
        resources=resources.model_dump(mode="json"),
        state=JobState.QUEUED.value,
        priority=create.priority,
        progress=0.0,
        message="queued",
        attempts=0,
        max_attempts=create.max_attempts,
        lease=0,
        created_at=now,
        updated_at=now,
    )
    with session_scope(settings) as s:
        s.add(row)
    return to_public(row)


def get_job(settings: Settings, job_id: str) -> JobPublic:
    with session_scope(settings) as s:
        return to_public(_get_row(s, job_id))


def list_jobs(
    settings: Settings,
    *,
    state: JobState | str | None = None,
    job_type: str | None = None,
    config_key: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> JobsPublic:
    """Jobs matching every filter given, newest first, with the total count of matches."""
    if not 1 <= limit <= MAX_LIST:
        raise ValueError(f"limit must be between 1 and {MAX_LIST}, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")
    conditions = []
    if state is not None:
        try:
            state = JobState(state)
        except ValueError:
            raise ValueError(
                f"unknown job state {state!r}; valid: {', '.join(s.value for s in JobState)}"
            ) from None
        conditions.append(JobRow.state == state.value)
    if job_type is not None:
        get_job_type(job_type)
        conditions.append(JobRow.type == job_type)
    if config_key is not None:
        parse_config_key(config_key)
        conditions.append(JobRow.config_key == config_key)
    where = and_(true(), *conditions)
    with session_scope(settings) as s:
        count = s.scalar(select(func.count()).select_from(JobRow).where(where)) or 0
        rows = s.scalars(
            select(JobRow)
            .where(where)
            .order_by(JobRow.created_at.desc(), JobRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return JobsPublic(data=[to_public(r) for r in rows], count=count)


def cancel(settings: Settings, job_id: str) -> JobPublic:
    """Queued or running → cancelled. The node running it sees the state and stops the process.

    Cancelling a cancelled job changes nothing; a job that already succeeded or failed cannot be cancelled.
    """
    with session_scope(settings) as s:
        row = _get_row(s, job_id, lock=True)
        state = JobState(row.state)
        if state in (JobState.QUEUED, JobState.RUNNING):
            now = utcnow()
            row.state = JobState.CANCELLED.value
            row.message = (
                "cancelled" if state is JobState.QUEUED else f"cancelled while running on {row.node_id}"
            )
            row.finished_at = now
            row.updated_at = now
        elif state is not JobState.CANCELLED:
            raise InvalidTransition(
                f"job {job_id!r} already {state.value}; only queued or running jobs can be cancelled"
            )
        return to_public(row)


def counts_by_state(settings: Settings) -> dict[tuple[str, str], int]:
    """(type, state) → number of jobs."""
    with session_scope(settings) as s:
        rows = s.execute(select(JobRow.type, JobRow.state, func.count()).group_by(JobRow.type, JobRow.state))
        return {(t, st): n for t, st, n in rows}


# -- nodes -----------------------------------------------------------------------------------------------


def claim(settings: Settings, *, node_id: str, executor: str, limit: int) -> list[Claim]:
    """Atomically move up to ``limit`` queued jobs to running on this node, best priority then oldest first.

    On PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent nodes pick different
    jobs; on SQLite the transaction holds the write lock from its first statement. Either way the update is
    conditional on the job still being queued, so a job is claimed by one node only.
    """
    if limit <= 0:
        return []
    claims: list[Claim] = []
    now = utcnow()
    with session_scope(settings) as s:
        ids = s.scalars(
            select(JobRow.id)
            .where(JobRow.state == JobState.QUEUED.value)
            .order_by(JobRow.priority.desc(), JobRow.created_at, JobRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for job_id in ids:
            result = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.state == JobState.QUEUED.value)
                .values(
                    state=JobState.RUNNING.value,
                    attempts=JobRow.attempts + 1,
                    lease=JobRow.lease + 1,
                    node_id=node_id,
                    executor=executor,
                    worker_host=None,
                    pid=None,
                    ray_task=None,
                    progress=0.0,
                    message=f"claimed by {node_id}"[:MAX_MESSAGE],
                    started_at=now,
                    updated_at=now,
                    heartbeat_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                continue
            lease, job_type, resources = s.execute(
                select(JobRow.lease, JobRow.type, JobRow.resources).where(JobRow.id == job_id)
            ).one()
            claims.append(Claim(job_id, lease, job_type, Resources.model_validate(resources)))
    return claims


def states_of(settings: Settings, job_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
    """job id → (state, lease) for the ids given (missing ids are left out)."""
    ids = list(job_ids)
    if not ids:
        return {}
    with session_scope(settings) as s:
        rows = s.execute(select(JobRow.id, JobRow.state, JobRow.lease).where(JobRow.id.in_(ids)))
        return {job_id: (state, lease) for job_id, state, lease in rows}


@dataclass(frozen=True)
class RunningJob:
    job_id: str
    lease: int
    node_id: str | None
    executor: str | None
    worker_host: str | None
    heartbeat_at: datetime | None


def running_jobs(settings: Settings) -> list[RunningJob]:
    with session_scope(settings) as s:
        rows = s.execute(
            select(
                JobRow.id,
                JobRow.lease,
                JobRow.node_id,
                JobRow.executor,
                JobRow.worker_host,
                JobRow.heartbeat_at,
            ).where(JobRow.state == JobState.RUNNING.value)
        )
        return [RunningJob(*r) for r in rows]


def set_ray_task(settings: Settings, job_id: str, lease: int, task: str) -> bool:
    return _fenced_update(settings, job_id, lease, ray_task=task[:100])


def fail_lost(settings: Settings, job_id: str, lease: int, reason: str) -> bool:
    """The process running the job ended without recording an outcome: the job failed with ``reason``."""
    now = utcnow()
    return _fenced_update(
        settings,
        job_id,
        lease,
        state=JobState.FAILED.value,
        error=reason[-MAX_ERROR:],
        message=reason.splitlines()[0][:MAX_MESSAGE] if reason else "failed",
        finished_at=now,
    )


def requeue(
    settings: Settings, job_id: str, lease: int, reason: str, *, count_attempt: bool = True
) -> str | None:
    """Give a job whose process is gone back to the queue, or fail it once its attempts are used up.

    ``count_attempt=False`` is for a node that stopped its own jobs on purpose (shutdown): that start does
    not count against ``max_attempts``. Returns the new state, or None when the job was no longer running
    under ``lease`` (someone else already decided its fate).
    """
    now = utcnow()
    with session_scope(settings) as s:
        row = s.scalars(
            select(JobRow)
            .where(JobRow.id == job_id, JobRow.state == "running", JobRow.lease == lease)
            .with_for_update()
        ).one_or_none()
        if row is None:
            return None
        if not count_attempt:
            row.attempts = max(0, row.attempts - 1)
        row.updated_at = now
        if row.attempts >= row.max_attempts:
            row.state = JobState.FAILED.value
            row.error = (f"gave up after {row.attempts} of {row.max_attempts} attempts; last: {reason}")[
                -MAX_ERROR:
            ]
            row.message = row.error.splitlines()[0][:MAX_MESSAGE]
            row.finished_at = now
        else:
            row.state = JobState.QUEUED.value
            row.message = f"re-queued: {reason}"[:MAX_MESSAGE]
            row.progress = 0.0
            row.pid = None
        return row.state


# -- the process running a job ---------------------------------------------------------------------------


def _fenced_update(settings: Settings, job_id: str, lease: int, **values: Any) -> bool:
    values.setdefault("updated_at", utcnow())
    with session_scope(settings) as s:
        result = s.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.state == JobState.RUNNING.value, JobRow.lease == lease)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def load_for_run(settings: Settings, job_id: str, lease: int) -> JobPublic | None:
    """The job if it is running under ``lease`` (the worker's go-ahead), else None."""
    with session_scope(settings) as s:
        row = s.get(JobRow, job_id)
        if row is None or row.state != JobState.RUNNING.value or row.lease != lease:
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
    now = utcnow()
    return _fenced_update(
        settings,
        job_id,
        lease,
        state=JobState.FAILED.value,
        error=error[-MAX_ERROR:],
        message=error.splitlines()[0][:MAX_MESSAGE] if error else "failed",
        finished_at=now,
        heartbeat_at=now,
    )
