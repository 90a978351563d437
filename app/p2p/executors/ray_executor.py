"""The cluster executor: jobs as Ray tasks that share no disk and no database with the node (extra ``zeroloop[ray]``).

A job type with a transfer seam (``app.p2p.transfer.remote_adapter``: ``sleep``, ``selfplay``, ``training``,
``evaluation``) runs as one Ray task with the job's resource request, anywhere in the cluster. Its inputs (checkpoints, a replay
window's shards) travel as task arguments through Ray's object store, put once per sha256 and shared by the jobs
that use them; its outputs come back as the task's return value, and the node checks each file against its
sha256, writes it atomically and indexes it itself. Progress and heartbeats reach the job's row through the node
(``ray_reports``), fenced by the lease like a local worker's writes. ``pipeline`` jobs, which need the node's
database, run in the node's own subprocesses (``LocalExecutor``), as do a training run with state on the node and
an evaluation that must top up the anchors' games (``StayOnNode``). Why the object store and not the node's HTTP API: docs/cluster.md.

Ray never retries a task on its own (``max_retries=0``): re-running a job is the job table's decision, made once,
with a new lease. A task lost with its worker (process or machine gone, or silent past the lease) is re-queued;
nothing it made was indexed, since outputs exist only in the return value that never came.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from app.core.config import Settings
from app.core.errors import InvalidConfig
from app.core.jobs import JobState, Resources
from app.p2p import leased, paths, store
from app.p2p.executors.base import Exit
from app.p2p.executors.local import LocalExecutor, worker_env
from app.p2p.executors.ray_reports import Mailbox, write_reports
from app.p2p.node import JOB_STALE_S
from app.p2p.remote_task import run_remote
from app.p2p.store import Claim
from app.p2p.transfer import Blob, RemoteAdapter, RemoteOutcome, RemoteWork, StayOnNode, remote_adapter
from app.p2p.worker import format_error, to_jsonable

log = logging.getLogger(__name__)

INPUT_CACHE = 4  # checkpoints kept in the object store for the next jobs that play them
GET_TIMEOUT_S = 60.0


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(
            "the Ray executor needs Ray: pip install 'zeroloop[ray]' (or run without --ray-address)"
        ) from exc
    return ray


@dataclass
class _Task:
    ref: Any
    lease: int
    adapter: RemoteAdapter
    config: dict[str, Any]
    heard_at: float | None = None  # when its worker last reported (monotonic); None before its first report
    cancelled: bool = False


class RayExecutor:
    name = "ray"

    def __init__(
        self, settings: Settings, address: str = "local", *, lease_s: float = JOB_STALE_S, **init_kwargs: Any
    ):
        """Connect to the Ray cluster at ``address`` (``local`` starts a private one, ``auto`` finds one).

        ``lease_s``: a started task silent this long is given up and its job re-queued.
        """
        self.settings = settings
        self.lease_s = lease_s
        self._ray = ray = _import_ray()
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            # Only the code travels in the environment: never the data directory or the database URL.
            env_vars = {k: v for k, v in worker_env(settings).items() if k == "PYTHONPATH"}
            init_kwargs.setdefault("include_dashboard", False)
            init_kwargs.setdefault("logging_level", logging.WARNING)
            init_kwargs.setdefault("log_to_driver", False)
            ray.init(address=address, namespace="zeroloop", runtime_env={"env_vars": env_vars}, **init_kwargs)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # The mailbox lives on the node's machine, so a worker machine that dies takes none of the reports along.
        here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
        # Restarted by Ray if it dies (its reports are only the latest ones; a lost beat just ages a lease).
        mailbox = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(Mailbox)
        self._mailbox = mailbox.options(scheduling_strategy=here).remote()
        self._remote = ray.remote(max_retries=0)(run_remote)
        self._tasks: dict[str, _Task] = {}
        self._inputs: OrderedDict[str, Any] = OrderedDict()  # sha256 → object ref of the blob
        self._local = LocalExecutor(settings)

    @property
    def wakeup(self) -> Callable[[], None] | None:
        return self._local.wakeup

    @wakeup.setter
    def wakeup(self, fn: Callable[[], None] | None) -> None:
        self._local.wakeup = fn

    def default_slots(self) -> int:
        """Two per CPU of the cluster now (machines that join later are not counted): each CPU has a job running
        and one waiting at Ray, which starts the moment the first ends instead of after a round trip through the
        node (outcome collected, indexed, next job claimed and sent: about 0.7 s a hand-over; bench/cluster.py)."""
        return max(1, 2 * int(self._ray.cluster_resources().get("CPU", 0)))

    # -- launching ---------------------------------------------------------------------------------------

    def _check_fits(self, claim: Claim) -> None:
        # Ray would keep an unsatisfiable task pending forever; say so now instead.
        totals: Mapping[str, float] = self._ray.cluster_resources()
        for name, amount in _ray_request(claim.resources).items():
            if amount > totals.get(name, 0.0):
                raise InvalidConfig(
                    f"job {claim.job_id} asks for {name}={amount:g} but the Ray cluster has "
                    f"{totals.get(name, 0.0):g} in total"
                )

    def launch(self, claim: Claim) -> None:
        adapter = remote_adapter(claim.type)
        if adapter is None:
            self._local.launch(claim)
            return
        self._check_fits(claim)
        try:
            config, inputs = adapter.prepare(self.settings, store.get_job(self.settings, claim.job_id).config)
        except StayOnNode as why:
            paths.append_log(self.settings, claim.job_id, f"runs on the node: {why}")
            self._local.launch(claim)
            return
        r = claim.resources
        ref = self._remote.options(
            num_cpus=r.cpus,
            num_gpus=r.gpus,
            resources=dict(r.custom) or None,
            name=f"zeroloop-job-{claim.job_id}",
        ).remote(
            RemoteWork(claim.job_id, claim.lease, claim.type, config),
            self._mailbox,
            *(self._input_ref(blob) for blob in inputs),
        )
        self._tasks[claim.job_id] = _Task(ref, claim.lease, adapter, config)
        # Ray calls this from its own thread as the task ends, so the node collects the outcome and fills the slot
        # then, not at its next tick: the hand-over no longer costs polling the cluster faster.
        ref.future().add_done_callback(lambda _ended: self._ended())
        leased.set_ray_task(self.settings, claim.job_id, claim.lease, ref.task_id().hex())
        sent = ", ".join(f"{b.name} ({len(b.data)} bytes)" for b in inputs) or "no files"
        paths.append_log(self.settings, claim.job_id, f"ray task lease={claim.lease} inputs: {sent}")

    def _ended(self) -> None:
        if self.wakeup is not None:
            self.wakeup()

    def _input_ref(self, blob: Blob) -> Any:
        ref = self._inputs.pop(blob.sha256, None)
        if ref is None:
            ref = self._ray.put(blob)
        self._inputs[blob.sha256] = ref
        while len(self._inputs) > INPUT_CACHE:
            self._inputs.popitem(last=False)
        return ref

    # -- watching ----------------------------------------------------------------------------------------

    def running(self) -> dict[str, int]:
        return {**self._local.running(), **{job_id: t.lease for job_id, t in self._tasks.items()}}

    def poll(self) -> list[Exit]:
        exits = self._local.poll()
        if not self._tasks:
            return exits
        self._read_mailbox()
        exits += self._expire_silent()
        by_ref = {t.ref: job_id for job_id, t in self._tasks.items()}
        ready, _ = self._ray.wait(list(by_ref), num_returns=len(by_ref), timeout=0)
        return exits + [self._collect(by_ref[ref]) for ref in ready]

    def _read_mailbox(self) -> None:
        try:
            reports = self._ray.get(self._mailbox.drain.remote(), timeout=GET_TIMEOUT_S)
        except self._ray.exceptions.RayError as exc:
            # Finished tasks are still collected; tasks that stay unheard lose their lease.
            log.warning("ray executor: the mailbox did not answer (%s); reports of this round are lost", exc)
            return
        running = {job_id: t.lease for job_id, t in self._tasks.items()}
        for job_id, at in write_reports(self.settings, reports, running, self.cancel).items():
            self._tasks[job_id].heard_at = at

    def _expire_silent(self) -> list[Exit]:
        now = time.monotonic()
        silent = [
            job_id
            for job_id, t in self._tasks.items()
            if t.heard_at is not None and not t.cancelled and now - t.heard_at > self.lease_s
        ]
        exits = []
        for job_id in silent:
            task = self._tasks.pop(job_id)
            self._ray.cancel(task.ref, force=True)
            reason = f"its Ray worker was silent for more than {self.lease_s:g} s (lease expired)"
            paths.append_log(self.settings, job_id, f"lost lease={task.lease}: {reason}")
            exits.append(Exit(job_id, task.lease, ok=False, reason=reason, requeue=True))
        return exits

    def _collect(self, job_id: str) -> Exit:
        task = self._tasks.pop(job_id)
        ray_errors = self._ray.exceptions
        try:
            outcome: RemoteOutcome = self._ray.get(task.ref, timeout=GET_TIMEOUT_S)
        except Exception as exc:
            if task.cancelled:
                return Exit(job_id, task.lease, ok=True)
            reason = f"Ray task failed: {type(exc).__name__}: {exc}"[:4000]
            paths.append_log(self.settings, job_id, f"lost lease={task.lease}: {reason}")
            # The task's own code failing is the job's failure; a worker or machine lost under it is not.
            lost = isinstance(exc, ray_errors.RayError) and not isinstance(exc, ray_errors.RayTaskError)
            return Exit(job_id, task.lease, ok=False, reason=reason, requeue=lost)
        self._record(job_id, task, outcome)
        return Exit(job_id, task.lease, ok=True)

    def _record(self, job_id: str, task: _Task, outcome: RemoteOutcome) -> None:
        """The node's half of a finished task: check and index its files, then record the outcome (fenced)."""
        if store.states_of(self.settings, [job_id]).get(job_id) != (JobState.RUNNING.value, task.lease):
            paths.append_log(
                self.settings, job_id, f"discarded lease={task.lease}: the job is no longer ours"
            )
            return
        if outcome.error is None:
            started = time.perf_counter()
            try:
                result = to_jsonable(task.adapter.accept(self.settings, task.config, outcome))
            except Exception as exc:
                outcome = RemoteOutcome(error=format_error(exc))
            else:
                recorded = leased.record_success(self.settings, job_id, task.lease, result)
                files = ", ".join(f"{b.name} ({len(b.data)} bytes)" for b in outcome.blobs) or "no files"
                laps = {**outcome.extra.get("seconds", {}), "accept": round(time.perf_counter() - started, 4)}
                paths.append_log(
                    self.settings,
                    job_id,
                    f"succeeded lease={task.lease} recorded={recorded}; received {files}\n"
                    f"timing {' '.join(f'{k}={v}' for k, v in laps.items())}",
                )
                return
        recorded = leased.record_failure(self.settings, job_id, task.lease, outcome.error)
        paths.append_log(
            self.settings, job_id, f"failed lease={task.lease} recorded={recorded}\n{outcome.error}"
        )

    # -- stopping ----------------------------------------------------------------------------------------

    def cancel(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is None:
            self._local.cancel(job_id)
            return
        if not task.cancelled:
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
        return exits + self._local.stop_all(timeout)

    def close(self) -> None:
        self.stop_all(5.0)
        self._local.close()
        self._inputs.clear()
        if self._owns_ray:
            self._ray.shutdown()


def _ray_request(r: Resources) -> dict[str, float]:
    wanted = {"CPU": r.cpus, "GPU": r.gpus, **r.custom}
    return {k: v for k, v in wanted.items() if v > 0}
