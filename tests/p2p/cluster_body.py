"""The node of the cluster tests, run in the head namespace: ``python -m tests.p2p.cluster_body SCENARIO HOME ADDRESS
[HOSTS_JSON]``. It connects a node to the Ray cluster at ADDRESS, runs the scenario's jobs and prints one JSON line of
findings. Scenarios: ``place`` (selfplay anywhere, a job pinned by a custom resource), ``quickstart`` (the README's
steps: ``zeroloop serve --ray-address``, ``zeroloop run --node``), ``kill`` (the worker host running a selfplay job
dies under it) and ``loop_kill`` (the same in the middle of a two-cycle loop). HOSTS_JSON maps each worker IP to its
namespace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from app.core.config import Settings
from app.core.jobs import JobCreate, Resources, wait_for
from app.integration import P2PIntegration
from app.p2p import paths, store
from app.p2p.executors.ray_executor import RayExecutor
from app.p2p.node import Node
from app.registry import ModelLifecycle
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


def _kill_host_of(settings: Settings, job_id: str, hosts: dict) -> dict:
    """Once the job has played a share of its games on a worker host, SIGKILL every process of that host."""
    first = eventually(
        lambda: (row := store.get_job(settings, job_id)).worker_host and 0.15 <= row.progress < 0.8 and row,
        300,
        "the selfplay job to get going on a worker host",
    )
    victim = first.worker_host.rsplit("/", 1)[1]
    killed = subprocess.run(
        ["ip", "netns", "pids", hosts[victim]], capture_output=True, text=True
    ).stdout.split()
    for pid in killed:
        subprocess.run(["kill", "-9", pid], check=False)
    return {"first": first.model_dump(mode="json"), "victim": victim, "killed": len(killed)}


def kill(settings: Settings, node: Node, hosts: dict) -> dict:
    config = {**SMALL_SELFPLAY, "games": 48, "parallel_games": 4, "num_simulations": 48, "shard_games": 4}
    job = store.submit(settings, JobCreate(type="selfplay", config=config, max_attempts=3))
    node.wake()
    findings = _kill_host_of(settings, job.id, hosts)
    findings["shards_after_kill"] = _shards(settings)
    findings["job"] = _finish(settings, job.id)
    findings["shards"] = _shards(settings)
    return findings


TINY_RUN = {  # tests/integration/test_pipeline.py's tiny_config, as `zeroloop run --set` pairs
    "cycle.selfplay_games": 8, "cycle.num_simulations": 4, "cycle.epochs": 1, "cycle.batch_size": 32,
    "cycle.replay_window": 5000, "parallel_games": 8, "gate_max_games": 4, "anchors": ["random"], "anchors_games": 2,
    "selfplay_jobs": 0,  # one selfplay job per node slot (--slots 2): one per worker host, as the README says
    "mode": "sync",  # each cycle's own selfplay parts, so that a kill lands in a known cycle's job
}  # fmt: skip
TOKEN = "cluster-test-token"
# Selfplay long enough on one CPU to be caught half-way: each of a cycle's two jobs plays 48 games at 48 simulations.
KILL_RUN = {**TINY_RUN, "cycle.selfplay_games": 96, "cycle.num_simulations": 48, "parallel_games": 4}


def loop_kill(settings: Settings, node: Node, hosts: dict) -> dict:
    """Two cycles of the loop on the cluster; the worker host running a part of cycle 1's selfplay dies mid-job.
    The loop goes on with the host left and completes; the invariants of a resumed loop hold."""
    from app.integration.pipeline import Pipeline
    from app.integration.run_settings import resolve
    from app.p2p.local_jobs import LocalJobs
    from tests.integration.test_pipeline import check_invariants

    pairs = [f"{k}={json.dumps(v)}" for k, v in KILL_RUN.items()]
    config = resolve("hex5_2p", pairs=pairs).config
    outcome: dict[str, Any] = {}

    def loop() -> None:
        try:  # the node (this process's, on the Ray cluster) runs the jobs; this client only queues them
            Pipeline(
                "hex5_2p", settings=settings, config=config, jobs=LocalJobs(settings, run_jobs=False)
            ).run(2)
            outcome["completed"] = True
        except BaseException as exc:  # noqa: BLE001 - reported in the findings
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    part = eventually(
        lambda: next(iter(store.list_jobs(settings, job_type="selfplay", state="running").data), None),
        300,
        "a selfplay job of cycle 1 to start",
    )
    findings = _kill_host_of(settings, part.id, hosts)
    findings["part"] = part.config.get("shard_name")
    findings["shards_after_kill"] = _shards(settings)
    thread.join(900)
    findings["loop"] = outcome if not thread.is_alive() else {"error": "still running after 900 s"}
    findings["job"] = _finish(settings, part.id)
    try:
        check_invariants(settings, 2, parts=2)
        findings["invariants"] = "hold"
    except AssertionError as exc:
        findings["invariants"] = f"broken: {exc!r}"
    findings["jobs"] = [
        {"type": j.type, "state": j.state.value, "attempts": j.attempts, "host": j.worker_host}
        for j in store.list_jobs(settings, config_key="hex5_2p", limit=100).data
    ]
    return findings


def quickstart(home: str, address: str) -> dict:
    """The README's quickstart on the head host: ``zeroloop serve --ray-address`` on a non-loopback address with a
    token, then ``zeroloop run --node`` for two cycles, then a selfplay job playing the trained model."""
    zeroloop = str(Path(sys.executable).parent / "zeroloop")
    host = address.split(":")[0]
    url = f"http://{host}:8770"
    env = {k: v for k, v in os.environ.items() if k != "ZEROLOOP_TOKEN"}
    serve = subprocess.Popen(
        [zeroloop, "--home", home, "serve", "--host", host, "--port", "8770", "--token", TOKEN,
         "--ray-address", address, "--slots", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        eventually(lambda: _answers(f"{url}/api/health"), 120, "the node to answer")
        findings: dict[str, Any] = {"jobs_without_token": httpx.get(f"{url}/api/jobs").status_code}
        pairs = [arg for k, v in TINY_RUN.items() for arg in ("--set", f"{k}={json.dumps(v)}")]
        run = subprocess.run(
            [zeroloop, "--home", home, "run", "hex5_2p", "--node", url, "--token", TOKEN, "--cycles", "2", *pairs],
            env=env, capture_output=True, text=True, timeout=500,
        )  # fmt: skip
        findings["run"] = {"rc": run.returncode, "tail": (run.stdout + run.stderr)[-3000:]}
        client = P2PIntegration(host=host, port=8770, token=TOKEN)
        job_id = client.submit_job(
            job_type="selfplay", config={**SMALL_SELFPLAY, "model_id": "hex5_2p_v2", "shard_name": "with-v2"}
        )
        findings["with_model"] = client.wait(job_id, timeout=300).model_dump(mode="json")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            serve.kill()
    settings = Settings(home=Path(home))
    findings["jobs"] = [
        {"id": j.id, "type": j.type, "state": j.state.value, "worker_host": j.worker_host,
         "shard_name": j.config.get("shard_name"), "log": paths.log_tail(settings, j.id, 2000)}
        for j in store.list_jobs(settings, config_key="hex5_2p", limit=100).data
    ]  # fmt: skip
    findings["shards"] = _shards(settings)
    findings["models"] = [m.model_id for m in ModelLifecycle(settings).list_models(config_key="hex5_2p")]
    return findings


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def main(scenario: str, home: str, address: str, hosts: str = "{}") -> None:
    if scenario == "quickstart":
        print(json.dumps(quickstart(home, address)))
        return
    settings = Settings(home=Path(home))
    executor = RayExecutor(settings, address, lease_s=LEASE_S)
    node = Node(settings, executor, node_id="head-node", slots=2, tick_s=0.2)
    node.start()
    try:
        scenarios = {"place": place, "kill": kill, "loop_kill": loop_kill}
        findings = scenarios[scenario](settings, node, json.loads(hosts))
    finally:
        node.stop()
    print(json.dumps(findings))


if __name__ == "__main__":
    main(*sys.argv[1:])
