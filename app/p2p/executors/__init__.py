"""Executors run claimed jobs: ``LocalExecutor`` (one subprocess per job, whose worker records the job's progress
and outcome in the job table itself) and ``RayExecutor`` (one Ray task per job that shares no disk and no database
with the node: the node writes its reports, files and outcome; see docs/cluster.md)."""

from __future__ import annotations

from typing import Any

from app.core.config import Settings
from app.p2p.executors.base import Executor, Exit

__all__ = ["Executor", "Exit", "build_executor"]


def build_executor(settings: Settings, ray_address: str | None = None, **ray_init: Any) -> Executor:
    """The executor of a node: Ray when ``ray_address`` names a cluster (or ``local``), else local subprocesses
    (forked from one warm fork server)."""
    if ray_address:
        from app.p2p.executors.ray_executor import RayExecutor  # ray is heavy and optional

        return RayExecutor(settings, ray_address, **ray_init)
    from app.p2p.executors.local import LocalExecutor

    return LocalExecutor(settings)
