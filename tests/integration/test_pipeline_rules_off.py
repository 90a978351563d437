"""``feedback_rules_off``: the named tuning rules still recommend (and are recorded), but the loop does not apply
them; the other rules, and the incident rules, still act."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.integration.feedback import FeedbackType, PipelineFeedback
from app.integration.pipeline import Pipeline
from app.integration.pipeline_config import PipelineConfig

from .test_pipeline import KEY, tiny_config


def _flat_losses_and_an_oom(settings) -> None:
    fb = PipelineFeedback(settings)
    for v in range(1, 5):  # four training runs with the same loss: loss_plateau recommends a decay
        fb.record(FeedbackType.TRAINING_COMPLETE, model_id=f"{KEY}_v{v}", metrics={"loss": 2.0})
    fb.record(
        FeedbackType.PIPELINE_ERROR,
        model_id=f"{KEY}_v4",
        metrics={"oom": 1},
        context={"stage": "training"},
    )


@pytest.mark.parametrize(("off", "decayed"), [([], True), (["loss_plateau"], False)])
def test_a_rule_switched_off_is_recommended_but_not_applied(settings, off, decayed):
    _flat_losses_and_an_oom(settings)
    config = tiny_config().model_copy(update={"feedback_rules_off": off})
    assert "loss_plateau" in {r.rule for r in PipelineFeedback(settings).get_recommendations(KEY)}
    with Pipeline(KEY, settings=settings, config=config, jobs=object()) as pipeline:
        before = config.cycle
        after, changes = pipeline._apply_recommendations(before)
    assert (after.learning_rate == before.learning_rate / 2) is decayed
    assert ("DECAY_LEARNING_RATE" in [c["action"] for c in changes]) is decayed
    assert after.batch_size == before.batch_size // 2  # the OOM rule acts either way


def test_only_tuning_rules_can_be_switched_off_and_a_wrong_name_says_which_exist():
    with pytest.raises(ValidationError, match="'loss_plateau'"):
        PipelineConfig(feedback_rules_off=["pipeline_pause"])
    with pytest.raises(ValidationError, match="weak_win_rate"):
        PipelineConfig(feedback_rules_off=["loss-plateau"])
