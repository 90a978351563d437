"""A `zeroloop run` stopped with SIGTERM hands its running job back to the queue, and the next run resumes it from
the shards it already wrote instead of from game 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.storage.db import session_scope
from app.storage.models.jobs import JobRow
from app.storage.models.shards import ShardRow

TINY = [
    "--set", "cycle.selfplay_games=64", "--set", "cycle.num_simulations=16", "--set", "cycle.epochs=1",
    "--set", "cycle.batch_size=32", "--set", "cycle.replay_window=5000", "--set", "parallel_games=4",
    "--set", "selfplay_shard_games=4", "--set", "gate_max_games=4", "--set", 'anchors=["random"]',
    "--set", "anchors_games=2", "--set", "selfplay_jobs=1",  # one selfplay job: its shards are the ones resumed
    "--set", "mode=sync",  # the cycle's own selfplay job is handed back (a continuous run's fleet is cancelled)
]  # fmt: skip


def _zeroloop(home, *args: str) -> subprocess.Popen:
    env = {**os.environ, "ZEROLOOP_HOME": str(home), "ZEROLOOP_TORCH_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _shards(settings) -> dict[str, object]:
    with session_scope(settings) as s:
        return {r.name: r.created_at for r in s.scalars(select(ShardRow))}


def _jobs(settings) -> list[tuple[str, str]]:
    with session_scope(settings) as s:
        return [(r.type, r.state) for r in s.scalars(select(JobRow).order_by(JobRow.created_at))]


@pytest.mark.slow
def test_sigterm_hands_the_job_back_and_the_rerun_resumes_from_its_shards(tmp_path):
    settings = Settings(home=tmp_path)
    proc = _zeroloop(tmp_path, "run", "hex5_2p", "--cycles", "1", *TINY)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if tmp_path.joinpath("zeroloop.db").exists() and len(_shards(settings)) >= 2:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.communicate()[0]
    written = _shards(settings)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0  # stopped, not finished
    assert ("selfplay", "queued") in _jobs(settings), (_jobs(settings), out)
    assert all(state != "running" for _, state in _jobs(settings))

    rerun = _zeroloop(tmp_path, "run", "hex5_2p", "--cycles", "1", *TINY)
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    after = _shards(settings)
    assert {
        k: after[k] for k in written
    } == written  # the shards written before the stop were kept, not replayed
    parts = sorted(n for n in after if n.startswith("cycle0001-"))
    assert parts == [f"cycle0001-{k:03d}" for k in range(16)]
    assert [state for kind, state in _jobs(settings) if kind == "selfplay"] == ["succeeded"]
