"""The interface a node drives its executor through; the node decides, the executor only runs and reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from app.p2p.store import Claim


@dataclass(frozen=True)
class Exit:
    """A job's process (or task) has ended.

    ``ok``: it ended normally, so whatever outcome the job has is already in its row. Otherwise ``reason``
    says how it ended and the node records the failure; ``requeue`` asks the node to queue the job again
    instead (the process never got to run it).
    """

    job_id: str
    lease: int
    ok: bool
    reason: str = ""
    requeue: bool = False


class Executor(Protocol):
    name: str
    wakeup: Callable[[], None] | None  # set by the node: call it when a job ends, to reuse the slot at once

    def default_slots(self) -> int:
        """How many jobs a node on this executor runs at once unless told (``zeroloop serve --slots``)."""

    def launch(self, claim: Claim) -> None:
        """Start running a claimed job; raises if it cannot be started at all."""

    def running(self) -> dict[str, int]:
        """Jobs this executor has in flight: job id → lease."""

    def poll(self) -> list[Exit]:
        """Collect the jobs whose process or task has ended since the last poll."""

    def cancel(self, job_id: str) -> None:
        """Stop a job's process or task (no-op if it is not running here)."""

    def stop_all(self, timeout: float) -> list[Exit]:
        """Stop every job in flight, waiting up to ``timeout`` seconds; returns their exits."""

    def close(self) -> None:
        """Release what the executor holds (after ``stop_all``)."""
