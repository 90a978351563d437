"""A real stage as a job through the local executor: a small selfplay run, then the same run again."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.jobs import JobState
from app.p2p.local_jobs import LocalJobs
from tests.p2p.ray_body import SMALL_SELFPLAY


@pytest.mark.slow  # the worker imports torch and compiles the game kernels
def test_selfplay_job_writes_a_shard_and_a_rerun_reuses_it(settings):
    with LocalJobs(settings, slots=1) as jobs:
        first = jobs.wait(jobs.submit("selfplay", SMALL_SELFPLAY), timeout=300)
        assert first.state is JobState.SUCCEEDED, first.error
        assert first.config_key == "hex5_2p" and first.executor == "local" and first.progress == 1.0
        result = first.result
        assert result["games"] == SMALL_SELFPLAY["games"] and result["positions"] > 0 and not result["reused"]
        assert Path(result["shard_path"]).exists()

        # The same job again (e.g. re-queued after its node died): the shard exists, so nothing is replayed.
        again = jobs.wait(jobs.submit("selfplay", SMALL_SELFPLAY), timeout=300)
        assert again.state is JobState.SUCCEEDED and again.result["reused"]
        assert again.result["shard_name"] == result["shard_name"]
        assert again.result["positions"] == result["positions"]
