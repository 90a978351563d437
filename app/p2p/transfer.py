"""What a remote job carries: its work order, its input files and its outcome (the Ray executor's wire types).

A remote job shares no disk and no database with its node (docs/cluster.md). The node turns a claimed job into a
``RemoteWork`` plus input ``Blob``s (a checkpoint's bytes), the task runs the stage in a private scratch
installation on its machine and returns a ``RemoteOutcome`` whose ``Blob``s are the files it made (shards); the
node checks every blob against its sha256 before it writes and indexes anything, so nothing half-transferred is
ever indexed. Each job type that may run remotely has an adapter (``RemoteAdapter``) with the two sides of that
seam; ``remote_adapter`` answers None for the types that stay on the node.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.core.config import Settings
from app.core.errors import ChecksumMismatch


@dataclass(frozen=True)
class Blob:
    """A file's bytes in transit, named for what it is (``model:<id>``, ``shard:<name>``), with its sha256."""

    name: str
    sha256: str
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, name: str, data: bytes) -> Blob:
        return cls(name, hashlib.sha256(data).hexdigest(), data)

    def verified(self) -> bytes:
        """The bytes, once they hash to the sha256 they were sent with; ``ChecksumMismatch`` otherwise."""
        actual = hashlib.sha256(self.data).hexdigest()
        if actual != self.sha256:
            raise ChecksumMismatch(
                f"{self.name} arrived damaged: {len(self.data)} bytes with sha256 {actual}, sent as {self.sha256}"
            )
        return self.data


@dataclass(frozen=True)
class RemoteWork:
    """A claimed job as the remote task sees it: ``config`` is the node's, with what it resolved pinned."""

    job_id: str
    lease: int
    job_type: str
    config: dict[str, Any]


@dataclass(frozen=True)
class RemoteOutcome:
    """What the task hands back: the stage's JSON result or its error, and the files it made."""

    result: Any = None
    error: str | None = None
    blobs: list[Blob] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # per-type data beside the files (game records)


class RemoteAdapter(Protocol):
    """The two sides of a job type's transfer seam. Node side: ``prepare``, ``accept``; task side: ``materialize``,
    ``collect`` (given the scratch installation the stage ran in)."""

    def prepare(self, settings: Settings, config: dict[str, Any]) -> tuple[dict[str, Any], list[Blob]]:
        """The config to send (what the node resolved pinned) and the input files the job needs; ``StayOnNode`` for
        a job that must run on the node."""

    def materialize(self, scratch: Settings, config: dict[str, Any], inputs: list[Blob]) -> None:
        """Install the inputs in the scratch installation, as the stage expects to find them."""

    def collect(self, scratch: Settings, config: dict[str, Any], result: Any) -> RemoteOutcome:
        """The outcome of a stage that succeeded: its result and every file it made."""

    def accept(self, settings: Settings, config: dict[str, Any], outcome: RemoteOutcome) -> Any:
        """Check and index the outcome's files in the node's installation; returns the job's result."""


class NoFiles:
    """Adapter of a job type that needs and makes no files (``sleep``): the result travels as it is."""

    def prepare(self, settings: Settings, config: dict[str, Any]) -> tuple[dict[str, Any], list[Blob]]:
        return config, []

    def materialize(self, scratch: Settings, config: dict[str, Any], inputs: list[Blob]) -> None:
        return None

    def collect(self, scratch: Settings, config: dict[str, Any], result: Any) -> RemoteOutcome:
        return RemoteOutcome(result=result)

    def accept(self, settings: Settings, config: dict[str, Any], outcome: RemoteOutcome) -> Any:
        return outcome.result


class StayOnNode(Exception):
    """Raised by ``prepare``: this job, unlike others of its type, must run on the node (it resumes state there)."""


def remote_adapter(job_type: str) -> RemoteAdapter | None:
    """The adapter of a job type that runs on any machine of the cluster; None for one that stays on the node.

    ``pipeline`` orchestrates the registry and needs the node's database, so it runs in the node's own processes
    (an evaluation plays anywhere; its games are rated on the node, over every stored game of its config key).
    """
    if job_type == "sleep":
        return NoFiles()
    if job_type == "selfplay":
        from app.p2p.remote_selfplay import SelfplayAdapter  # the stages load only where a job needs them

        return SelfplayAdapter()
    if job_type == "training":
        from app.p2p.remote_training import TrainingAdapter

        return TrainingAdapter()
    if job_type == "evaluation":
        from app.p2p.remote_evaluation import EvaluationAdapter

        return EvaluationAdapter()
    return None
