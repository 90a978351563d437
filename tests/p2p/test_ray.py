"""The Ray executor on a private local Ray cluster: progress and outcomes still land in the job table."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import require
from tests.p2p.ray_body import SMALL_SELFPLAY

pytestmark = pytest.mark.ray
REPO = Path(__file__).resolve().parents[2]


def _ray_installed() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _isolated_prefix() -> list[str]:
    """``unshare -n`` with loopback up where this machine allows it; otherwise skip with the reason."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("unshare or ip is missing: cannot give Ray a loopback-only network namespace")
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        pytest.skip(f"unshare -n is not permitted here ({probe.stderr.strip() or probe.returncode})")
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


@pytest.mark.slow  # starting Ray and importing torch in its worker take most of a minute on a small machine
def test_jobs_run_as_ray_tasks(tmp_path):
    require(_ray_installed(), "ray is not installed (pip install 'zeroloop[ray]')")
    prefix = _isolated_prefix()
    home = tmp_path / "data"
    # Ray's socket paths must stay short; pytest's tmp_path is too long for them.
    with tempfile.TemporaryDirectory(prefix="zlray", dir="/tmp") as ray_tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROLOOP_", "RAY_"))}
        env.update(RAY_TMPDIR=ray_tmp, PYTHONPATH=str(REPO), RAY_USAGE_STATS_ENABLED="0")
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "tests.p2p.ray_body", str(home)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=420,
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    findings = json.loads(done.stdout.strip().splitlines()[-1])
    assert findings["default_slots"] == 2  # one CPU: a job running and one waiting at Ray

    sleep = findings["sleep"]
    assert sleep["state"] == "succeeded" and sleep["result"]["steps"] == 2, sleep
    assert sleep["executor"] == "ray" and sleep["node_id"] == "ray-node" and sleep["ray_task"]
    assert sleep["pid"] and sleep["progress"] == 1.0

    failing = findings["failing"]
    assert failing["state"] == "failed" and failing["error"].startswith("SleepFailed:")

    too_big = findings["too_big"]
    assert too_big["state"] == "failed" and "asks for GPU=2 but the Ray cluster has 0" in too_big["error"]

    cancelled = findings["cancelled"]
    assert cancelled["state"] == "cancelled" and cancelled["result"] is None

    stalled = findings["stalled"]  # max_attempts=1: the lost attempt was its last
    assert stalled["state"] == "failed" and "Ray worker was silent for more than 3 s" in stalled["error"], (
        stalled
    )

    woken = findings["woken"]  # the node's round period was an hour: only the task's end could wake it
    assert woken["state"] == "succeeded" and woken["executor"] == "ray", woken

    selfplay = findings["selfplay"]
    assert selfplay["state"] == "succeeded", selfplay["error"]
    assert selfplay["executor"] == "ray" and selfplay["config_key"] == "hex5_2p"
    assert selfplay["result"]["games"] == SMALL_SELFPLAY["games"] and selfplay["result"]["positions"] > 0
    assert Path(selfplay["result"]["shard_path"]).exists()
