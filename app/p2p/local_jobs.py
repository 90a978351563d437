"""``LocalJobs``: the in-process ``JobClient``. Same job table, same local executor, no HTTP server.

It starts a node inside this process (unless ``run_jobs=False``), so ``zeroloop run`` without ``--node`` runs
each stage in its own subprocess, recorded in the job table like any other job, and survives nothing more than
the process that started it. Another node sharing the data directory may run the jobs just as well.
"""

from __future__ import annotations

import os
import socket
from typing import Any, Unpack

from app.core.config import Settings, get_settings
from app.core.jobs import JobCreate, JobOptions, JobPublic, JobQuery, JobsPublic, wait_for
from app.p2p import nodes, store
from app.p2p.executors.local import LocalExecutor
from app.p2p.node import Node


class LocalJobs:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        slots: int = 1,
        run_jobs: bool = True,
        node_id: str | None = None,
    ):
        self.settings = settings or get_settings()
        self.node: Node | None = None
        if run_jobs:
            node_id = node_id or f"{socket.gethostname()}:local-{os.getpid()}"
            executor = LocalExecutor(self.settings)
            self.node = Node(self.settings, executor, node_id=node_id, slots=slots)
            self.node.start()

    def submit(self, job_type: str, config: dict[str, Any], **options: Unpack[JobOptions]) -> str:
        create = JobCreate(type=job_type, config=config, **options)
        job = store.submit(self.settings, create)
        if self.node is not None:
            self.node.job_submitted()
        return job.id

    def status(self, job_id: str) -> JobPublic:
        return store.get_job(self.settings, job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> JobPublic:
        return wait_for(self.status, job_id, timeout)

    def cancel(self, job_id: str) -> JobPublic:
        job = store.cancel(self.settings, job_id)
        if self.node is not None:
            self.node.wake()
        return job

    def slots(self) -> int:
        return nodes.cluster_status(self.settings, hostname=socket.gethostname()).slots

    def list_jobs(self, **query: Unpack[JobQuery]) -> JobsPublic:
        return store.list_jobs(self.settings, **query)

    def close(self) -> None:
        """Stop the in-process node: its running jobs are stopped and queued again for the next node."""
        if self.node is not None:
            self.node.stop()
            self.node = None

    def __enter__(self) -> LocalJobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
