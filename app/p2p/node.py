"""A node: the loop that claims queued jobs into free slots, watches them, and recovers lost ones.

Nodes are peers. They share nothing but the database: each beats a row in ``nodes``, claims jobs with a
conditional update (``store.claim``), and on every sweep looks for running jobs whose process is gone:
- its own jobs that its executor does not know (it restarted) and
- jobs of nodes that stopped beating (or whose process vanished from this machine).
A job is only taken back when its process is gone: on this machine the job's lock file says so exactly,
elsewhere its heartbeat must have gone stale. It is then re-queued, or failed once its attempts are used up.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

from app.core.config import Settings
from app.core.jobs import JobState, NodeIdentity
from app.p2p import leased, nodes, paths, store
from app.p2p.executors.base import Executor, Exit
from app.p2p.metrics import JobMetrics
from app.storage.base import utcnow

log = logging.getLogger(__name__)

TICK_S = 0.5
HEARTBEAT_S = 2.0
RECOVERY_S = 2.0
JOB_STALE_S = 30.0
STOP_TIMEOUT_S = 10.0


class Node:
    def __init__(
        self,
        settings: Settings,
        executor: Executor,
        *,
        node_id: str,
        slots: int,
        address: str | None = None,
        tick_s: float = TICK_S,
    ):
        if slots < 0:
            raise ValueError(f"slots must be >= 0 (0 = serve the API without running jobs), got {slots}")
        self.settings = settings
        self.executor = executor
        executor.wakeup = self.wake
        self.node_id = node_id
        self.slots = slots
        self.hostname = socket.gethostname()
        self.info = NodeIdentity(
            id=node_id,
            hostname=self.hostname,
            address=address,
            pid=os.getpid(),
            slots=slots,
            executor=executor.name,
        )
        self.metrics = JobMetrics(settings, self.hostname)
        self.tick_s = tick_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_beat = 0.0
        self._next_recovery = 0.0

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> None:
        nodes.beat(self.settings, self.info)
        self._next_beat = time.monotonic() + HEARTBEAT_S
        self.recover()
        self._next_recovery = time.monotonic() + RECOVERY_S
        self._thread = threading.Thread(target=self._loop, name=f"node-{self.node_id}", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run a round now rather than at the next tick (a job of this node ended or was cancelled)."""
        self._wake.set()

    def job_submitted(self) -> None:
        """Claim now if a slot is free; otherwise the next free slot claims it anyway."""
        # Waking the loop for nothing costs a thread switch on every submission, a tenth of an API-only
        # node's time per submit.
        if len(self.executor.running()) < self.slots and not self._wake.is_set():
            self._wake.set()

    def stop(self) -> None:
        """Stop claiming, stop this node's jobs and queue them again (their start does not count)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        for ex in self.executor.stop_all(STOP_TIMEOUT_S):
            store.requeue(
                self.settings, ex.job_id, ex.lease, f"node {self.node_id} stopped", count_attempt=False
            )
        self.executor.close()
        nodes.mark_stopped(self.settings, self.node_id)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.tick()
            except Exception:  # a busy or briefly unreachable database must not kill the node
                log.exception("node %s: tick failed; retrying", self.node_id)
            self._wake.wait(self.tick_s)
            self._wake.clear()

    # -- one round ---------------------------------------------------------------------------------------

    def tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_beat:
            nodes.beat(self.settings, self.info)
            self._next_beat = now + HEARTBEAT_S
        self._reap()
        self._enforce_cancels()
        if now >= self._next_recovery:
            self.recover()
            self._next_recovery = now + RECOVERY_S
        if not self._stopping.is_set():
            self._claim()

    def _claim(self) -> None:
        free = self.slots - len(self.executor.running())
        for claim in store.claim(
            self.settings, node_id=self.node_id, executor=self.executor.name, limit=free
        ):
            try:
                self.executor.launch(claim)
            except Exception as exc:
                leased.fail_lost(self.settings, claim.job_id, claim.lease, f"could not start the job: {exc}")
                self._observe(claim.job_id)

    def _reap(self) -> None:
        for ex in self.executor.poll():
            self._record_exit(ex)
            self._observe(ex.job_id)

    def _record_exit(self, ex: Exit) -> None:
        if ex.ok:
            return
        if ex.requeue:
            store.requeue(self.settings, ex.job_id, ex.lease, ex.reason)
            return
        tail = paths.log_tail(self.settings, ex.job_id, 2000).strip()
        reason = ex.reason + (f"\n\nlast lines of the job log:\n{tail}" if tail else "")
        leased.fail_lost(self.settings, ex.job_id, ex.lease, reason)

    def _observe(self, job_id: str) -> None:
        with contextlib.suppress(LookupError):
            self.metrics.observe(store.get_job(self.settings, job_id))

    def _enforce_cancels(self) -> None:
        mine = self.executor.running()
        for job_id, (state, lease) in store.states_of(self.settings, mine).items():
            if state != JobState.RUNNING.value or lease != mine[job_id]:
                self.executor.cancel(job_id)

    # -- recovery ----------------------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Re-queue (or fail) running jobs whose process is gone; returns their ids."""
        now = utcnow()
        node_rows = {r.id: r for r in nodes.all_nodes(self.settings)}
        live = {i for i, r in node_rows.items() if nodes.is_alive(r, now=now, hostname=self.hostname)}
        mine = self.executor.running()
        recovered = []
        for job in store.running_jobs(self.settings):
            if job.node_id == self.node_id:
                if job.job_id in mine:
                    continue
                why = f"node {self.node_id} restarted and its process for the job is gone"
            elif job.node_id in live:
                continue
            else:
                why = f"node {job.node_id} stopped beating and its process for the job is gone"
            if job.node_id == self.node_id:
                owner_hostname: str | None = self.hostname
            else:
                owner = node_rows.get(job.node_id) if job.node_id else None
                owner_hostname = owner.hostname if owner else None
            if self._process_may_live(job, owner_hostname=owner_hostname, now=now):
                continue
            state = store.requeue(self.settings, job.job_id, job.lease, why)
            if state is not None:
                log.warning("node %s: job %s %s (%s)", self.node_id, job.job_id, state, why)
                recovered.append(job.job_id)
                if state != JobState.QUEUED.value:
                    self._observe(job.job_id)
        return recovered

    def _process_may_live(self, job: store.RunningJob, *, owner_hostname: str | None, now) -> bool:
        host = job.worker_host or owner_hostname
        if host == self.hostname:
            # On this machine the job's lock is exact: held if and only if its process lives.
            return paths.lock_held(self.settings, job.job_id)
        if job.heartbeat_at is None:
            return False
        return (now - job.heartbeat_at).total_seconds() <= JOB_STALE_S
