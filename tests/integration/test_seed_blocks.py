"""The seed's first two code blocks (Pipeline Feedback, Model Lifecycle) run verbatim and do what they say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from app.core.config import Settings
from app.integration.feedback import FeedbackType, PipelineFeedback
from app.registry import ModelLifecycle, ModelStage

REPO = Path(__file__).resolve().parents[2]
SHARED_SEED = REPO.parent / "shared" / "seed" / "integration-module.md"
COPY = Path(__file__).with_name("seed_blocks.md")
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def python_blocks(markdown: str) -> list[str]:
    return _BLOCK.findall(markdown)


def seed_blocks() -> tuple[str, str]:
    source = SHARED_SEED if SHARED_SEED.exists() else COPY
    blocks = python_blocks(source.read_text())
    assert len(blocks) >= 2, f"{source} has fewer than two python blocks"
    return blocks[0], blocks[1]


def test_kept_copy_matches_the_shared_seed():
    copy = python_blocks(COPY.read_text())
    assert len(copy) == 2
    if SHARED_SEED.exists():
        assert tuple(copy) == seed_blocks()
    assert "feedback.get_recommendations()" in copy[0]
    assert 'lifecycle.promote_to_production("hex8_2p_v3")' in copy[1]


def test_feedback_block_records_and_recommends(settings):
    feedback_block, _ = seed_blocks()
    ns: dict = {}
    exec(compile(feedback_block, "seed:pipeline-feedback", "exec"), ns)
    assert ns["recommendations"] == []  # one training run is no reason to change anything
    [event] = PipelineFeedback(settings).history()
    assert event.feedback_type is FeedbackType.TRAINING_COMPLETE
    assert (event.model_id, event.config_key) == ("hex8_2p_v3", "hex8_2p")
    assert event.metrics == {"loss": 0.025, "accuracy": 0.76}


def test_lifecycle_block_walks_the_model_to_production(settings):
    _, lifecycle_block = seed_blocks()
    exec(compile(lifecycle_block, "seed:model-lifecycle", "exec"), {})
    lc = ModelLifecycle(settings)
    model = lc.get_model("hex8_2p_v3")
    assert (model.config_key, model.version, model.stage) == ("hex8_2p", 3, ModelStage.PRODUCTION)
    assert lc.get_production("hex8_2p") == model
    steps = [(t.from_stage, t.to_stage, t.elo_delta) for t in lc.history("hex8_2p_v3")]
    assert steps == [
        (None, ModelStage.TRAINING, None),
        (ModelStage.TRAINING, ModelStage.EVALUATION, 45.0),
        (ModelStage.EVALUATION, ModelStage.PRODUCTION, None),
    ]


def test_both_blocks_in_a_fresh_process_use_the_default_data_directory(tmp_path):
    feedback_block, lifecycle_block = seed_blocks()
    script = tmp_path / "seed.py"
    script.write_text(feedback_block + "\n" + lifecycle_block + "\nprint(len(recommendations))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROLOOP_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
    installation = Settings(home=tmp_path / "zeroloop-data")
    assert ModelLifecycle(installation).get_production("hex8_2p").model_id == "hex8_2p_v3"
    assert [e.model_id for e in PipelineFeedback(installation).history()] == ["hex8_2p_v3"]
