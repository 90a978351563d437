"""The body of the Ray test, run in its own process (inside ``unshare -n`` where allowed, so Ray's local
cluster sees only loopback): ``python -m tests.p2p.ray_body HOME``. Prints one JSON line of findings."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from app.core.config import Settings
from app.core.jobs import JobCreate, Resources, wait_for
from app.p2p import store
from app.p2p.executors.ray_executor import RayExecutor
from app.p2p.node import JOB_STALE_S as LEASE_S
from app.p2p.node import Node
from tests.p2p.nodeproc import eventually

SMALL_SELFPLAY = {
    "board_type": "hex5",
    "num_players": 2,
    "games": 2,
    "num_simulations": 4,
    "parallel_games": 2,
    "model_id": "uniform",
}


def main(home: str) -> None:
    settings = Settings(home=Path(home))
    executor = RayExecutor(settings, "local", num_cpus=1)
    node = Node(settings, executor, node_id="ray-node", slots=1, tick_s=0.1)
    node.start()
    findings: dict = {"default_slots": executor.default_slots()}
    try:

        def run(job_type: str, config: dict, timeout: float = 240, **kw) -> dict:
            job = store.submit(settings, JobCreate(type=job_type, config=config, **kw))
            node.wake()
            return wait_for(lambda i: store.get_job(settings, i), job.id, timeout=timeout).model_dump(
                mode="json"
            )

        findings["sleep"] = run("sleep", {"seconds": 0.2, "progress_steps": 2})
        findings["failing"] = run("sleep", {"seconds": 0, "fail": True})
        findings["too_big"] = run("sleep", {"seconds": 0}, resources=Resources(cpus=0, gpus=2))

        long = store.submit(settings, JobCreate(type="sleep", config={"seconds": 600}))
        node.wake()
        findings["long_pid"] = eventually(
            lambda: store.get_job(settings, long.id).pid, 120, "the Ray task to start"
        )
        store.cancel(settings, long.id)
        eventually(lambda: not executor.running(), 60, "the cancelled task to end")
        findings["cancelled"] = store.get_job(settings, long.id).model_dump(mode="json")

        # A worker that stops answering (SIGSTOP: alive to Ray, silent to the node) loses its job at the lease.
        executor.lease_s = 3.0
        stalled = store.submit(settings, JobCreate(type="sleep", config={"seconds": 600}, max_attempts=1))
        node.wake()
        pid = eventually(lambda: store.get_job(settings, stalled.id).pid, 120, "the stalled task to start")
        os.kill(pid, signal.SIGSTOP)
        findings["stalled"] = wait_for(
            lambda i: store.get_job(settings, i), stalled.id, timeout=60
        ).model_dump(mode="json")
        eventually(lambda: not executor.running(), 60, "the stalled task to be given up")
        executor.lease_s = LEASE_S

        # A finished task wakes the node: with an hour between its rounds it still collects the job at once.
        node.tick_s = 3600.0
        node.wake()
        findings["woken"] = run("sleep", {"seconds": 0.5}, timeout=90)
        node.tick_s = 0.1
        node.wake()

        findings["selfplay"] = run("selfplay", SMALL_SELFPLAY, resources=Resources(cpus=1))
    finally:
        node.stop()
    print(json.dumps(findings))


if __name__ == "__main__":
    main(sys.argv[1])
