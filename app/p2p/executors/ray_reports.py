"""The progress channel of remote jobs: a mailbox actor on the node's machine, read and written through by the node.

Remote tasks post ``started``, progress and heartbeats to the ``Mailbox`` (fire and forget); the node drains it
every round and writes each report to the job's row through the lease-fenced store functions, exactly as a local
worker's writes are fenced. A report the store refuses (the job was cancelled or claimed again) makes the node
cancel the task. The mailbox holds no settings and touches no database: only the node writes the job table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app.core.config import Settings
from app.p2p import leased


class Mailbox:
    """Ray actor: the latest report per (job, lease) since the node last drained it."""

    def __init__(self) -> None:
        self._reports: dict[tuple[str, int], dict[str, Any]] = {}

    def report(self, job_id: str, lease: int, report: dict[str, Any]) -> None:
        merged = self._reports.setdefault((job_id, lease), {})
        for key, value in report.items():
            if value is not None:  # a bare heartbeat keeps the progress still waiting to be written
                merged[key] = value
        merged["beats"] = merged.get("beats", 0) + 1

    def drain(self) -> dict[tuple[str, int], dict[str, Any]]:
        reports, self._reports = self._reports, {}
        return reports


def write_reports(
    settings: Settings,
    reports: dict[tuple[str, int], dict[str, Any]],
    running: dict[str, int],
    refuse: Callable[[str], None],
) -> dict[str, float]:
    """Write drained reports of the tasks in ``running`` (job id → lease) to their rows, fenced by the lease.

    ``refuse(job_id)`` is called for a report the store refused. Returns job id → when (monotonic) its task last
    reported, for the tasks that reported.
    """
    heard: dict[str, float] = {}
    for (job_id, lease), report in reports.items():
        if running.get(job_id) != lease:
            continue  # a report of an earlier lease, or of a task already collected
        ok = True
        started = report.get("started")
        if started:
            ok = leased.worker_started(
                settings, job_id, lease, pid=int(started["pid"]), host=str(started["host"])
            )
        progress = report.get("progress")
        if ok and progress:
            ok = leased.report_progress(settings, job_id, lease, float(progress[0]), str(progress[1]))
        elif ok and not started:
            ok = leased.heartbeat(settings, job_id, lease)
        if ok:
            heard[job_id] = time.monotonic()
        else:
            refuse(job_id)
    return heard
