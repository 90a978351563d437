"""The node of the cluster tests, run in the head namespace: ``python -m tests.p2p.cluster_body SCENARIO HOME ADDRESS
[HOSTS_JSON]``. It connects a node to the Ray cluster at ADDRESS, runs the scenario's jobs and prints one JSON line of
findings. Scenarios: ``place`` (selfplay anywhere, a job pinned by a custom resource) and ``kill`` (the worker host
running a selfplay job dies under it; HOSTS_JSON maps each worker IP to its namespace).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.core.config import Settings
from app.core.jobs import JobCreate, Resources, wait_for
from app.p2p import paths, store
from app.p2p.executors.ray_executor import RayExecutor
from app.p2p.node import Node
from app.storage.shards import ShardStore
from tests.p2p.nodeproc import eventually
from tests.p2p.ray_body import SMALL_SELFPLAY

LEASE_S = 15.0  # the node gives up on a silent worker after this long (the default is 30 s)


def _run(settings: Settings, node: Node, job_type: str, config: dict, **kw: Any) -> dict:
    job = store.submit(settings, JobCreate(type=job_type, config=config, **kw))
    node.wake()
    return _finish(settings, job.id)


def _finish(settings: Settings, job_id: str) -> dict:
    done = wait_for(lambda i: store.get_job(settings, i), job_id, timeout=400).model_dump(mode="json")
    done["log"] = paths.log_tail(settings, job_id, 4000)
    return done


def _shards(settings: Settings) -> dict[str, int]:
    """Shard name → how many index rows it has (each should have one)."""
    counts: dict[str, int] = {}
    for record in ShardStore(settings).records("hex5_2p"):
        counts[record.name] = counts.get(record.name, 0) + 1
    return counts


def place(settings: Settings, node: Node, _hosts: dict) -> dict:
    findings = {"selfplay": _run(settings, node, "selfplay", {**SMALL_SELFPLAY, "shard_games": 1})}
    findings["pinned"] = _run(
        settings, node, "sleep", {"seconds": 0.1}, resources=Resources(cpus=0, custom={"zl_w1": 1})
    )
    findings["shards"] = _shards(settings)
    return findings


def kill(settings: Settings, node: Node, hosts: dict) -> dict:
    config = {**SMALL_SELFPLAY, "games": 48, "parallel_games": 4, "num_simulations": 48, "shard_games": 4}
    job = store.submit(settings, JobCreate(type="selfplay", config=config, max_attempts=3))
    node.wake()
    # Wait until the job has played a shard's worth on its first host, then take that host down.
    first = eventually(
        lambda: (row := store.get_job(settings, job.id)).worker_host and 0.15 <= row.progress < 0.8 and row,
        300,
        "the selfplay job to get going on a worker host",
    )
    victim = first.worker_host.rsplit("/", 1)[1]
    killed = subprocess.run(
        ["ip", "netns", "pids", hosts[victim]], capture_output=True, text=True
    ).stdout.split()
    for pid in killed:
        subprocess.run(["kill", "-9", pid], check=False)
    findings = {"first": first.model_dump(mode="json"), "victim": victim, "killed": len(killed)}
    findings["shards_after_kill"] = _shards(settings)
    findings["job"] = _finish(settings, job.id)
    findings["shards"] = _shards(settings)
    return findings


def main(scenario: str, home: str, address: str, hosts: str = "{}") -> None:
    settings = Settings(home=Path(home))
    executor = RayExecutor(settings, address, lease_s=LEASE_S)
    node = Node(settings, executor, node_id="head-node", slots=2, tick_s=0.2)
    node.start()
    try:
        findings = {"place": place, "kill": kill}[scenario](settings, node, json.loads(hosts))
    finally:
        node.stop()
    print(json.dumps(findings))


if __name__ == "__main__":
    main(*sys.argv[1:])
