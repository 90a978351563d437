"""Executors run claimed jobs: ``LocalExecutor`` (one subprocess per job) and ``RayExecutor`` (one Ray task per
job). Both run the same worker code, which records the job's progress and outcome in the job table itself."""

from app.p2p.executors.base import Executor, Exit

__all__ = ["Executor", "Exit"]
