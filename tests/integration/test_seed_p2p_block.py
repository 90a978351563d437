"""The seed's third code block (P2P Integration) runs verbatim against a real node on a loopback port."""

from __future__ import annotations

import re
from pathlib import Path

from app.core.jobs import JobState
from app.integration import JobStatus, P2PIntegration
from tests.p2p.nodeproc import NodeProcess

SHARED_SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "integration-module.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)

# Kept here so the test runs where the shared seed is not mounted; checked against it where it is.
SEED_P2P_BLOCK = """\
from app.integration import P2PIntegration

# Connect to cluster
p2p = P2PIntegration(port=8770)

# Submit training job
job_id = p2p.submit_job(
    job_type="training",
    config={
        "board_type": "hex8",
        "num_players": 2,
        "epochs": 50,
    },
)

# Monitor progress
status = p2p.get_job_status(job_id)
"""


def test_kept_block_matches_the_shared_seed():
    if SHARED_SEED.exists():
        blocks = _BLOCK.findall(SHARED_SEED.read_text())
        assert blocks[2] == SEED_P2P_BLOCK
    assert "P2PIntegration(port=8770)" in SEED_P2P_BLOCK


def test_seed_block_submits_a_training_job_that_fails_clearly_without_shards(tmp_path):
    with NodeProcess(tmp_path / "data", slots=1) as node:
        block = SEED_P2P_BLOCK.replace("port=8770", f"port={node.port}")
        ns: dict = {}
        exec(compile(block, "seed:p2p-integration", "exec"), ns)
        status = ns["status"]
        assert isinstance(status, JobStatus) and status.id == ns["job_id"]
        assert status.type == "training" and status.config_key == "hex8_2p"
        assert status.config["epochs"] == 50  # the rest of the config is the stage's defaults
        assert status.state in (JobState.QUEUED, JobState.RUNNING)

        # A fresh installation has no selfplay data: training must say so rather than invent any.
        final = P2PIntegration(port=node.port).wait(ns["job_id"], timeout=180)
        assert final.state is JobState.FAILED
        assert "no training shards for hex8_2p" in final.error and "run selfplay" in final.error
        assert final.attempts == 1 and final.result is None
