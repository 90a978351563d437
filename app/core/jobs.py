"""The job wire contract: the shapes jobs take on the wire and in Python, and the one ``JobClient`` protocol.

Shared by the job engine (``app.p2p``: store, node, executors), its HTTP API (``app.web``) and both clients
(``LocalJobs`` in-process, ``P2PIntegration`` over HTTP), so it sits at the bottom of the house: it imports nothing
from ``app``. ``JobCreate`` is what a caller submits, ``JobPublic`` what it gets back (the seed calls it
``JobStatus``), ``JobsPublic`` a page of them, ``ClusterStatus`` the nodes sharing one database; ``wait_for``
polls any client's ``status`` until a job is done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypedDict, Unpack

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def done(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})

JOB_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
RESOURCE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$"


class Resources(BaseModel):
    """What one job asks of the machine that runs it (Ray schedules on it; the local executor counts slots)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: float = Field(default=1.0, ge=0, le=1024, description="CPU cores the job uses.")
    gpus: float = Field(default=0.0, ge=0, le=64, description="GPUs the job uses (fractions share one GPU).")
    custom: dict[str, float] = Field(
        default_factory=dict,
        description="Custom Ray resources, e.g. {'selfplay_slot': 1}.",
        max_length=16,
    )

    @field_validator("custom")
    @classmethod
    def _custom_names_and_amounts(cls, value: dict[str, float]) -> dict[str, float]:
        for name, amount in value.items():
            if not re.match(RESOURCE_NAME_PATTERN, name):
                raise ValueError(
                    f"custom resource name {name!r} must match {RESOURCE_NAME_PATTERN} (letters, digits, _ and -)"
                )
            if not 0 <= amount <= 1e6:
                raise ValueError(f"custom resource {name!r} amount {amount} must be between 0 and 1e6")
        return value


class JobCreate(BaseModel):
    """A job submission: its type, its stage config (validated by the type's config model) and how to run it."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern=JOB_TYPE_PATTERN, description="Job type, e.g. 'selfplay' (GET /api/jobtypes).")
    config: dict[str, Any] = Field(default_factory=dict, description="The stage config of that job type.")
    priority: int = Field(
        default=0, ge=-1000, le=1000, description="Higher runs first; ties run oldest first."
    )
    max_attempts: int = Field(
        default=3, ge=1, le=20, description="Starts allowed when a node running the job dies."
    )
    resources: Resources | None = Field(default=None, description="Default: the job type's request.")


class JobOptions(TypedDict, total=False):
    """How a job is queued besides its type and config: ``JobCreate``'s other fields (its defaults apply)."""

    priority: int
    max_attempts: int
    resources: Resources | dict[str, Any] | None


class JobQuery(TypedDict, total=False):
    """A filtered page of the job list, newest first (``app.p2p.store.list_jobs``'s filters and defaults)."""

    state: JobState | str | None
    job_type: str | None
    config_key: str | None
    limit: int
    offset: int


class JobPublic(BaseModel):
    """One job as the job table holds it."""

    id: str
    type: str
    state: JobState
    config: dict[str, Any]
    config_key: str | None = None
    priority: int = 0
    progress: float = Field(ge=0, le=1, description="Fraction done, in [0, 1].")
    message: str = ""
    result: Any | None = None
    error: str | None = Field(default=None, description="Error and traceback summary when the job failed.")
    attempts: int = 0
    max_attempts: int = 3
    resources: Resources = Field(default_factory=Resources)
    node_id: str | None = None
    executor: str | None = None
    worker_host: str | None = None
    pid: int | None = None
    ray_task: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @computed_field(description="One line saying why a failed job failed (the exception and its message).")
    @property
    def error_summary(self) -> str | None:
        return error_summary(self.error) if self.error else None

    @property
    def done(self) -> bool:
        """True once the job can change no more (succeeded, failed or cancelled)."""
        return self.state.done

    @property
    def succeeded(self) -> bool:
        return self.state is JobState.SUCCEEDED


# A Python exception line: a class name (with its module path) followed by ": message", or a bare name that
# is clearly an exception (``KeyboardInterrupt``).
_EXCEPTION_LINE = re.compile(
    r"^(?:[a-z_]\w*\.)*[A-Z]\w*(?::\s.*|(?<=Error)|(?<=Exception)|(?<=Interrupt)|(?<=Exit))$"
)


def error_summary(error: str) -> str:
    """The line of a job's error that names the exception: the first line of a worker's ``Type: message``
    report, else the last exception line of the job log a node appended, else the first line.

    A traceback's last line is source code (``raise ValueError(``), which says nothing on its own.
    """
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    if not lines:
        return ""
    if _EXCEPTION_LINE.match(lines[0]):
        return lines[0]
    named = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return f"{lines[0]}: {named[-1]}" if named else lines[0]


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int = Field(description="Jobs matching the filters, all pages together.")


class JobTypePublic(BaseModel):
    name: str
    description: str
    config_schema: dict[str, Any] | None = Field(
        description="JSON schema of the config; None if unavailable."
    )
    available: bool
    unavailable_reason: str | None = None
    resources: Resources


class NodeIdentity(BaseModel):
    """What a node says of itself in each heartbeat."""

    model_config = ConfigDict(frozen=True)

    id: str
    hostname: str
    address: str | None
    pid: int
    slots: int
    executor: str


class NodePublic(NodeIdentity):
    model_config = ConfigDict(frozen=False)

    alive: bool
    running: int = Field(description="Jobs this node is running now.")
    started_at: datetime
    last_seen: datetime


class ClusterStatus(BaseModel):
    nodes: list[NodePublic]
    slots: int = Field(description="Slots of the live nodes together.")
    running: int
    queued: int
    jobs_by_state: dict[str, int]


class JobClient(Protocol):
    """How callers (the pipeline, scripts) run jobs, with or without a node server: ``LocalJobs`` runs a node in
    the caller's process, ``P2PIntegration`` talks to one over HTTP. ``submit`` also takes ``priority``,
    ``max_attempts`` and ``resources`` (``JobCreate``'s fields)."""

    def submit(self, job_type: str, config: dict[str, Any], **options: Unpack[JobOptions]) -> str: ...

    def status(self, job_id: str) -> JobPublic: ...

    def wait(self, job_id: str, timeout: float | None = None) -> JobPublic: ...

    def cancel(self, job_id: str) -> JobPublic: ...

    def slots(self) -> int:
        """Jobs the job system runs at once now: the slots of every live node (0 when none runs)."""
        ...


WAIT_POLL_S = 0.2


def wait_for(
    status: Callable[[str], JobPublic], job_id: str, timeout: float | None, poll_s: float = WAIT_POLL_S
) -> JobPublic:
    """Poll ``status(job_id)`` until the job is done; ``TimeoutError`` (naming its state) after ``timeout`` s."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        job = status(job_id)
        if job.done:
            return job
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(
                f"job {job_id} is still {job.state.value} ({job.progress:.0%}: {job.message}) after {timeout:g}s"
            )
        time.sleep(poll_s if deadline is None else max(0.0, min(poll_s, deadline - time.monotonic())))
