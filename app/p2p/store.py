"""Service functions over the job table; each is one transaction.

Three kinds of writers share the table:
- callers (API, CLI, ``LocalJobs``): ``submit``, ``cancel``;
- nodes: ``claim`` (queued → running, bumps ``lease``), ``requeue`` for processes that died;
- the process running a job: the fenced writes of ``app.p2p.leased``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, true, update

from app.core.config import Settings
from app.core.errors import InvalidConfig, InvalidTransition, JobNotFound
from app.core.jobs import JobCreate, JobPublic, JobsPublic, JobState, Resources
from app.core.names import parse_config_key
from app.p2p.jobtypes import get_job_type, validate_config
from app.storage.base import utcnow
from app.storage.db import get_engine, read_engine
from app.storage.models.jobs import JobRow

# SQLAlchemy Core on the table rather than ORM sessions: a status read is the node's hottest path, and Core
# does it in about half the time. ``engine.begin()`` is one transaction, like ``session_scope``.
T = JobRow.__table__

MAX_MESSAGE = 500
MAX_ERROR = 20_000
MAX_LIST = 1000
# SQLite integers are 64-bit; a larger offset would overflow in the driver (a 500) instead of being refused.
MAX_OFFSET = 2**62


@dataclass(frozen=True)
class Claim:
    """A job a node has just claimed: run it under this lease."""

    job_id: str
    lease: int
    type: str
    resources: Resources


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def to_public(row: Mapping[str, Any]) -> JobPublic:
    return JobPublic.model_validate(dict(row))


def _not_found(job_id: str) -> JobNotFound:
    return JobNotFound(f"no job with id {job_id!r}; list jobs with GET /api/jobs or `zeroloop jobs list`")


MIN_PREFIX = 4


def _full_id(conn: Connection, job_id: str) -> str:
    """``job_id`` itself, or the one job whose id starts with it (the dashboard shows 8 characters).

    JobNotFound when none matches; InvalidConfig naming the candidates when the prefix is ambiguous.
    """
    if conn.execute(select(T.c.id).where(T.c.id == job_id)).first() is not None:
        return job_id
    if len(job_id) < MIN_PREFIX or not all(ch in "0123456789abcdef" for ch in job_id):
        raise _not_found(job_id)
    found = conn.execute(
        select(T.c.id).where(T.c.id.startswith(job_id, autoescape=True)).order_by(T.c.id).limit(5)
    ).scalars()
    matches = list(found)
    if not matches:
        raise _not_found(job_id)
    if len(matches) > 1:
        raise InvalidConfig(
            f"job id {job_id!r} is ambiguous: it starts {', '.join(matches)}; give more of it"
        )
    return matches[0]


def resolve_job_id(settings: Settings, job_id: str) -> str:
    """The full id of the job ``job_id`` names (itself or a unique prefix of at least 4 characters)."""
    with read_engine(settings).connect() as conn:
        return _full_id(conn, job_id)


def _get_row(conn: Connection, job_id: str, *, lock: bool = False) -> Mapping[str, Any]:
    query = select(T).where(T.c.id == _full_id(conn, job_id))
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().one_or_none()
    if row is None:
        raise _not_found(job_id)
    return row


# -- callers ---------------------------------------------------------------------------------------------


def submit(settings: Settings, create: JobCreate) -> JobPublic:
    """Validate the config against its job type and queue the job; the stored config has defaults filled in."""
    cfg, key = validate_config(create.type, create.config)
    resources = create.resources or get_job_type(create.type).resources
    now = utcnow()
    values = {
        "id": new_job_id(),
        "type": create.type,
        "config": cfg.model_dump(mode="json"),
        "config_key": key,
        "resources": resources.model_dump(mode="json"),
        "state": JobState.QUEUED.value,
        "priority": create.priority,
        "progress": 0.0,
        "message": "queued",
        "attempts": 0,
        "max_attempts": create.max_attempts,
        "lease": 0,
        "created_at": now,
        "updated_at": now,
    }
    with get_engine(settings).begin() as conn:
        conn.execute(insert(T).values(**values))
    return to_public(values)


def get_job(settings: Settings, job_id: str) -> JobPublic:
    with read_engine(settings).connect() as conn:
        return to_public(_get_row(conn, job_id))


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
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"offset must be between 0 and {MAX_OFFSET}, got {offset}")
    conditions = []
    if state is not None:
        try:
            state = JobState(state)
        except ValueError:
            raise ValueError(
                f"unknown job state {state!r}; valid: {', '.join(s.value for s in JobState)}"
            ) from None
        conditions.append(T.c.state == state.value)
    if job_type is not None:
        get_job_type(job_type)
        conditions.append(T.c.type == job_type)
    if config_key is not None:
        parse_config_key(config_key)
        conditions.append(T.c.config_key == config_key)
    where = and_(true(), *conditions)
    with read_engine(settings).connect() as conn:
        count = conn.scalar(select(func.count()).select_from(T).where(where)) or 0
        rows = conn.execute(
            select(T).where(where).order_by(T.c.created_at.desc(), T.c.id).limit(limit).offset(offset)
        ).mappings()
        return JobsPublic(data=[to_public(r) for r in rows], count=count)


def cancel(settings: Settings, job_id: str) -> JobPublic:
    """Queued or running → cancelled. The node running it sees the state and stops the process.

    Cancelling a cancelled job changes nothing; a job that already succeeded or failed cannot be cancelled.
    """
    with get_engine(settings).begin() as conn:
        row = dict(_get_row(conn, job_id, lock=True))
        job_id = row["id"]
        state = JobState(row["state"])
        if state in (JobState.QUEUED, JobState.RUNNING):
            now = utcnow()
            message = (
                "cancelled" if state is JobState.QUEUED else f"cancelled while running on {row['node_id']}"
            )
            changes = {
                "state": JobState.CANCELLED.value,
                "message": message[:MAX_MESSAGE],
                "finished_at": now,
                "updated_at": now,
            }
            conn.execute(update(T).where(T.c.id == job_id).values(**changes))
            row.update(changes)
        elif state is not JobState.CANCELLED:
            raise InvalidTransition(
                f"job {job_id!r} already {state.value}; only queued or running jobs can be cancelled"
            )
        return to_public(row)


def counts_by_state(settings: Settings) -> dict[tuple[str, str], int]:
    """(type, state) → number of jobs."""
    with read_engine(settings).connect() as conn:
        rows = conn.execute(select(T.c.type, T.c.state, func.count()).group_by(T.c.type, T.c.state))
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
    with get_engine(settings).begin() as conn:
        ids = conn.scalars(
            select(T.c.id)
            .where(T.c.state == JobState.QUEUED.value)
            .order_by(T.c.priority.desc(), T.c.created_at, T.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for job_id in ids:
            result = conn.execute(
                update(T)
                .where(T.c.id == job_id, T.c.state == JobState.QUEUED.value)
                .values(
                    state=JobState.RUNNING.value,
                    attempts=T.c.attempts + 1,
                    lease=T.c.lease + 1,
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
            )
            if result.rowcount != 1:
                continue
            lease, job_type, resources = conn.execute(
                select(T.c.lease, T.c.type, T.c.resources).where(T.c.id == job_id)
            ).one()
            claims.append(Claim(job_id, lease, job_type, Resources.model_validate(resources)))
    return claims


def states_of(settings: Settings, job_ids: Iterable[str]) -> dict[str, tuple[str, int]]:
    """job id → (state, lease) for the ids given (missing ids are left out)."""
    ids = list(job_ids)
    if not ids:
        return {}
    with read_engine(settings).connect() as conn:
        rows = conn.execute(select(T.c.id, T.c.state, T.c.lease).where(T.c.id.in_(ids)))
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
    with read_engine(settings).connect() as conn:
        rows = conn.execute(
            select(T.c.id, T.c.lease, T.c.node_id, T.c.executor, T.c.worker_host, T.c.heartbeat_at).where(
                T.c.state == JobState.RUNNING.value
            )
        )
        return [RunningJob(*r) for r in rows]


def failed_columns(error: str) -> dict[str, object]:
    """The columns of a failed outcome: the error's tail kept whole, its first line as the message."""
    return {
        "state": JobState.FAILED.value,
        "error": error[-MAX_ERROR:],
        "message": error.splitlines()[0][:MAX_MESSAGE] if error else "failed",
        "finished_at": utcnow(),
    }


def requeue(
    settings: Settings, job_id: str, lease: int, reason: str, *, count_attempt: bool = True
) -> str | None:
    """Give a job whose process is gone back to the queue, or fail it once its attempts are used up.

    ``count_attempt=False`` is for a node that stopped its own jobs on purpose (shutdown): that start does
    not count against ``max_attempts``. Returns the new state, or None when the job was no longer running
    under ``lease`` (someone else already decided its fate).
    """
    now = utcnow()
    with get_engine(settings).begin() as conn:
        row = (
            conn.execute(
                select(T.c.attempts, T.c.max_attempts)
                .where(T.c.id == job_id, T.c.state == JobState.RUNNING.value, T.c.lease == lease)
                .with_for_update()
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        attempts = max(0, row["attempts"] - 1) if not count_attempt else row["attempts"]
        changes: dict[str, Any] = {"attempts": attempts, "updated_at": now}
        if attempts >= row["max_attempts"]:
            changes.update(
                failed_columns(f"gave up after {attempts} of {row['max_attempts']} attempts; last: {reason}")
            )
        else:
            changes.update(
                state=JobState.QUEUED.value,
                message=f"re-queued: {reason}"[:MAX_MESSAGE],
                progress=0.0,
                pid=None,
            )
        conn.execute(update(T).where(T.c.id == job_id).values(**changes))
        return changes["state"]
