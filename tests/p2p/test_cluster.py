"""A real cluster on one machine: three hosts as network namespaces, workers that cannot read the node's disk.

The head host runs the Ray head (no CPUs) and the node; two worker hosts run Ray nodes as ``nobody``, which cannot
read the node's data directory (mode 0700, checked first), so a job that touched the node's files or database
directly would fail loudly. Selfplay runs on a worker host and its shards are indexed once by the node; a job asking
for a custom resource runs on the host that has it; the README's quickstart (``zeroloop serve --ray-address`` with a
token, ``zeroloop run --node``) runs two cycles with selfplay and training on the worker hosts (the window's shards
and the parent's checkpoint sent out, the new checkpoint sent back), and selfplay plays a trained model sent to its
worker; a worker host killed mid-job costs one attempt, and the job
completes on the other host with every shard indexed once and nothing indexed from the lost attempt; a worker host
killed in the middle of a two-cycle loop's selfplay leaves a loop that completes on the host left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import require
from tests.p2p.cluster_net import REPO, Cluster, netns_unavailable, ray_env
from tests.p2p.test_ray import _ray_installed

pytestmark = [pytest.mark.ray, pytest.mark.slow]  # three Ray nodes, torch and the game kernels on each worker


@pytest.fixture(scope="module")
def cluster():
    require(_ray_installed(), "ray is not installed (pip install 'zeroloop[ray]')")
    why = netns_unavailable()
    if why:
        pytest.skip(f"no network namespaces for the cluster test: {why}")
    up = Cluster.up(2, str(os.getpid() % 100_000))
    try:
        yield up
    finally:
        up.down()


@pytest.fixture
def node_home(tmp_path):
    home = tmp_path / "node-home"
    home.mkdir(mode=0o700)
    return home


def _body(cluster: Cluster, scenario: str, home) -> dict:
    hosts = json.dumps({h.ip: h.netns for h in cluster.workers})
    done = subprocess.run(
        ["ip", "netns", "exec", cluster.head.netns, sys.executable, "-m", "tests.p2p.cluster_body",
         scenario, str(home), cluster.address, hosts],
        cwd=REPO, env=ray_env(str(cluster.root / "head" / "ray")), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_host_cannot_read_the_node_home(cluster, node_home):
    (node_home / "zeroloop.db").write_bytes(b"")
    probe = f"import os; os.listdir({str(node_home)!r})"
    done = cluster.as_worker(cluster.workers[0], sys.executable, "-c", probe)
    assert done.returncode != 0 and "PermissionError" in done.stderr, done.stderr[-2000:]


def test_selfplay_runs_on_a_worker_host_and_the_node_indexes_its_shards_once(cluster, node_home):
    findings = _body(cluster, "place", node_home)
    selfplay = findings["selfplay"]
    assert selfplay["state"] == "succeeded", selfplay["error"]
    worker_ips = {h.ip for h in cluster.workers}
    assert selfplay["executor"] == "ray" and selfplay["worker_host"].rsplit("/", 1)[1] in worker_ips
    result = selfplay["result"]
    assert result["games"] == 2 and result["positions"] > 0 and len(result["shards"]) == 2
    assert findings["shards"] == {name: 1 for name in result["shards"]}
    assert result["shard_path"].startswith(str(node_home)) and os.path.isfile(result["shard_path"])
    assert "received shard:" in selfplay["log"] and "timing materialize=" in selfplay["log"]

    pinned = findings["pinned"]  # custom={"zl_w1": 1}: only the second worker host has that resource
    assert pinned["state"] == "succeeded", pinned["error"]
    assert pinned["worker_host"].endswith("/" + cluster.workers[1].ip)


def test_the_readme_quickstart_runs_two_cycles_with_selfplay_on_the_worker_hosts(cluster, node_home):
    findings = _body(cluster, "quickstart", node_home)
    assert findings["jobs_without_token"] == 401  # a non-loopback node demands its token
    assert findings["run"]["rc"] == 0, findings["run"]["tail"]
    assert findings["models"] == ["hex5_2p_v1", "hex5_2p_v2"]
    assert findings["shards"] == {
        "cycle0001": 1, "cycle0001-part2": 1, "cycle0002": 1, "cycle0002-part2": 1, "with-v2": 1
    }  # fmt: skip
    worker_ips = {h.ip for h in cluster.workers}
    # Each cycle's selfplay was two jobs (selfplay_jobs=0: one per node slot), one on each worker host (one CPU each).
    for cycle in ("cycle0001", "cycle0002"):
        hosts = {
            j["worker_host"].rsplit("/", 1)[-1]
            for j in findings["jobs"]
            if j["type"] == "selfplay" and (j["shard_name"] or "").startswith(cycle)
        }
        assert hosts == worker_ips, (cycle, hosts)
    for job in findings["jobs"]:
        assert job["state"] == "succeeded", job
        ran_on = job["worker_host"].rsplit("/", 1)[-1]
        # Selfplay, training and the gate ran on worker hosts (the gate's games are rated on the node).
        assert ran_on in worker_ips, job
    with_model = findings["with_model"]
    assert with_model["state"] == "succeeded" and with_model["result"]["model_id"] == "hex5_2p_v2"
    (log,) = [j["log"] for j in findings["jobs"] if j["id"] == with_model["id"]]
    assert "inputs: model:hex5_2p_v2 (" in log and "received shard:with-v2" in log
    (training,) = [j["log"] for j in findings["jobs"] if j["type"] == "training" and "hex5_2p_v2" in j["log"]]
    assert (
        "shard:cycle0002 (" in training
        and "received checkpoint:models/hex5_2p/hex5_2p_v2.safetensors" in training
    )


def test_a_worker_host_killed_mid_job_costs_one_attempt_and_no_shard(cluster, node_home):
    findings = _body(cluster, "kill", node_home)
    assert findings["killed"] > 0 and findings["first"]["state"] == "running"
    # The lost attempt's shards existed only on the dead host: none reached the index.
    assert findings["shards_after_kill"] == {}
    job = findings["job"]
    assert job["state"] == "succeeded", job["error"]
    assert job["attempts"] == 2 and "lost lease=1" in job["log"]
    assert job["worker_host"].rsplit("/", 1)[1] != findings["victim"]
    names = job["result"]["shards"]
    assert len(names) == 12 and findings["shards"] == {name: 1 for name in names}
    assert job["result"]["games"] == 48


def test_the_loop_completes_when_a_worker_host_dies_mid_selfplay(cluster, node_home):
    cluster.revive()  # the test above killed a host
    findings = _body(cluster, "loop_kill", node_home)
    assert findings["loop"] == {"completed": True}, findings["loop"]
    assert findings["killed"] > 0 and findings["first"]["state"] == "running"
    # What the lost attempt played existed only on the dead host: its part's shard was not indexed then.
    assert findings["part"] not in findings["shards_after_kill"]
    job = findings["job"]  # the part re-queued once its host was lost, then played on the host left
    assert job["state"] == "succeeded" and job["attempts"] == 2 and "lost lease=1" in job["log"], job
    assert job["worker_host"].rsplit("/", 1)[1] != findings["victim"]
    # Both cycles done, one production, no double promotion, every shard indexed once and whole.
    assert findings["invariants"] == "hold", findings["invariants"]
    assert all(j["state"] == "succeeded" for j in findings["jobs"]), findings["jobs"]
