"""The cluster executor: each job as one Ray task with the job's resource request (optional extra ``zeroloop[ray]``).

The task runs the same worker code as a local subprocess and writes progress and outcome into the job table
itself, so it is given the node's data directory and database URL. Ray never retries a task on its own
(``max_retries=0``): re-running a job is the job table's decision, made once, with a new lease.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidConfig
from app.core.jobs import Resources
from app.p2p import store
from app.p2p.executors.base import Exit
from app.p2p.executors.local import worker_env
from app.p2p.store import Claim

log = logging.getLogger(__name__)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(
            "the Ray executor needs Ray: pip install 'zeroloop[ray]' (or run without --ray-address)"
        ) from exc
    return ray


def run_job_task(job_id: str, lease: int, home: str, database_url: str | None) -> int:
    """The body of a job's Ray task, on whichever machine Ray chose."""
    from app.core.config import reset_settings
    from app.p2p.worker import run_job

    # Stage code that reads the process-wide settings must see the node's installation too.
    os.environ["ZEROLOOP_HOME"] = home
    if database_url:
        os.environ["ZEROLOOP_DATABASE_URL"] = database_url
    reset_settings()
    settings = Settings(home=Path(home), database_url=database_url, host="127.0.0.1", token=None)
    return run_job(job_id, lease, settings=settings)


@dataclass
class _Task:
    ref: Any
    lease: int
    cancelled: bool = False


class RayExecutor:
    name = "ray"

    def __init__(self, settings: Settings, address: str = "local", **init_kwargs: Any):
        """Connect to the Ray cluster at ``address`` (``local`` starts a private one, ``auto`` finds one)."""
        self.settings = settings
        self._ray = ray = _import_ray()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            env = worker_env(settings)
            env_vars = {
                k: env[k] for k in ("ZEROLOOP_HOME", "ZEROLOOP_DATABASE_URL", "PYTHONPATH") if k in env
            }
            init_kwargs.setdefault("include_dashboard", False)
            init_kwargs.setdefault("logging_level", logging.WARNING)
            init_kwargs.setdefault("log_to_driver", False)
            ray.init(address=address, namespace="zeroloop", runtime_env={"env_vars": env_vars}, **init_kwargs)
        self._remote = ray.remote(max_retries=0)(run_job_task)
        self._tasks: dict[str, _Task] = {}
        self.wakeup = None  # finished tasks are collected at the node's next tick

    def _check_fits(self, claim: Claim) -> None:
        # Ray would keep an unsatisfiable task pending forever; say so now instead.
        totals: Mapping[str, float] = self._ray.cluster_resources()
        wanted = _ray_request(claim.resources)
        for name, amount in wanted.items():
            if amount > totals.get(name, 0.0):
                raise InvalidConfig(
                    f"job {claim.job_id} asks for {name}={amount:g} but the Ray cluster has "
                    f"{totals.get(name, 0.0):g} in total"
                )

    def launch(self, claim: Claim) -> None:
        self._check_fits(claim)
        r = claim.resources
        ref = self._remote.options(
            num_cpus=r.cpus,
            num_gpus=r.gpus,
            resources=dict(r.custom) or None,
            name=f"zeroloop-job-{claim.job_id}",
        ).remote(claim.job_id, claim.lease, str(self.settings.home.resolve()), self.settings.database_url)
        self._tasks[claim.job_id] = _Task(ref, claim.lease)
        store.set_ray_task(self.settings, claim.job_id, claim.lease, ref.task_id().hex())

    def running(self) -> dict[str, int]:
        return {job_id: t.lease for job_id, t in self._tasks.items()}

    def poll(self) -> list[Exit]:
        if not self._tasks:
            return []
        by_ref = {t.ref: job_id for job_id, t in self._tasks.items()}
        ready, _ = self._ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        return [self._collect(by_ref[ref]) for ref in ready]

    def _collect(self, job_id: str) -> Exit:
        task = self._tasks.pop(job_id)
        try:
            rc = self._ray.get(task.ref, timeout=0)
        except Exception as exc:
            if task.cancelled:
                return Exit(job_id, task.lease, ok=True)
            return Exit(
                job_id, task.lease, ok=False, reason=f"Ray task failed: {type(exc).__name__}: {exc}"[:4000]
            )
        from app.p2p.worker import EXIT_BUSY, EXIT_SUPERSEDED

        if rc in (0, EXIT_SUPERSEDED):
            return Exit(job_id, task.lease, ok=True)
        if rc == EXIT_BUSY:
            return Exit(
                job_id, task.lease, ok=False, reason="another process still held the job", requeue=True
            )
        return Exit(job_id, task.lease, ok=False, reason=f"Ray task returned exit code {rc}")

    def cancel(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is None or task.cancelled:
            return
        task.cancelled = True
        self._ray.cancel(task.ref, force=True)

    def stop_all(self, timeout: float) -> list[Exit]:
        for job_id in list(self._tasks):
            self.cancel(job_id)
        refs = [t.ref for t in self._tasks.values()]
        if refs:
            self._ray.wait(refs, num_returns=len(refs), timeout=timeout)
        exits = [
            Exit(job_id, t.lease, ok=False, reason="stopped by its node") for job_id, t in self._tasks.items()
        ]
        self._tasks.clear()
        return exits

    def close(self) -> None:
        self.stop_all(5.0)
        if self._owns_ray:
            self._ray.shutdown()


def _ray_request(r: Resources) -> dict[str, float]:
    wanted = {"CPU": r.cpus, "GPU": r.gpus, **r.custom}
    return {k: v for k, v in wanted.items() if v > 0}
