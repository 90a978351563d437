"""STAGING in the loop: a candidate the gate accepts enters STAGING and reaches PRODUCTION only once the staging
policy is satisfied by the evaluation's evidence (its rating on the anchored scale over production's)."""

from __future__ import annotations

import pytest

from app.evaluation.config import EvalResult
from app.integration import FeedbackType, ModelLifecycle, ModelStage, PipelineFeedback, pipeline_stages
from app.integration.pipeline import Pipeline
from app.integration.pipeline_config import CycleSettings, PipelineConfig
from app.p2p.local_jobs import LocalJobs
from app.registry.policy import PromotionPolicy

KEY = "hex5_2p"


def evaluation(candidate: str, opponent: str, *, decision: str, rating: float, opponent_rating: float):
    def rated(name: str, elo: float) -> dict:
        return {"name": name, "elo": elo, "ci_low": elo - 80, "ci_high": elo + 80, "games": 24}

    return EvalResult.model_validate(
        {
            "evaluation_id": "e1", "config_key": KEY, "candidate": candidate, "opponent": opponent,
            "decision": decision, "paired": True, "llr": 3.0, "llr_lower": -2.2, "llr_upper": 2.2,
            "elo0": 0.0, "elo1": 40.0, "alpha": 0.1, "beta": 0.1, "games": 16, "pairs": 8, "score": 0.8,
            "elo_delta": 240.0, "elo_ci_low": 60.0, "elo_ci_high": 420.0, "wins": 13, "draws": 0,
            "losses": 3, "pentanomial": [0, 1, 0, 2, 5], "llr_path": [1.0, 3.0], "anchor_games": 8,
            "calibration_games": 0, "candidate_rating": rated(candidate, rating),
            "ratings": [rated(candidate, rating), rated(opponent, opponent_rating), rated("random", 0.0)],
            "seconds": 1.0, "games_per_s": 16.0,
        }
    )  # fmt: skip


def config(**changes) -> PipelineConfig:
    return PipelineConfig(**{"cycle": CycleSettings(num_simulations=4), "anchors": ["random"], **changes})


def promote(settings, cfg: PipelineConfig, **eval_kwargs) -> tuple[str, str]:
    """Cycle 1's promotion step on a registered candidate in EVALUATION; (decision, candidate id)."""
    with LocalJobs(settings) as jobs, Pipeline(KEY, settings=settings, config=cfg, jobs=jobs) as pipeline:
        cycle = pipeline._ensure_cycle(1)
        pipeline.lifecycle.register_model(cycle.candidate_model_id, ModelStage.EVALUATION, reason="test")
        result = evaluation(cycle.candidate_model_id, cycle.opponent, **eval_kwargs)
        return pipeline._promotion(cycle, result), cycle.candidate_model_id


def stages_of(settings, model_id: str) -> list[ModelStage]:
    return [t.to_stage for t in ModelLifecycle(settings).history(model_id)]


def test_an_accepted_candidate_rated_above_production_goes_through_staging(settings):
    decision, model_id = promote(settings, config(), decision="accept", rating=300.0, opponent_rating=120.0)
    assert decision == "promoted"
    assert stages_of(settings, model_id) == [ModelStage.EVALUATION, ModelStage.STAGING, ModelStage.PRODUCTION]
    final = ModelLifecycle(settings).history(model_id)[-1]
    assert final.evidence["rating_gain"] == pytest.approx(180.0)
    assert "confirmed in staging (min_rating_gain=0)" in final.reason


def test_staging_retires_a_candidate_the_anchors_do_not_confirm(settings):
    decision, model_id = promote(settings, config(), decision="accept", rating=100.0, opponent_rating=120.0)
    assert decision == "rejected"
    assert stages_of(settings, model_id) == [ModelStage.EVALUATION, ModelStage.STAGING, ModelStage.RETIRED]
    final = ModelLifecycle(settings).history(model_id)[-1]
    assert final.reason == "staging: min_rating_gain: rating_gain=-20 < 0"
    assert ModelLifecycle(settings).get_production(KEY) is None
    (event,) = PipelineFeedback(settings).history(
        KEY, model_id=model_id, feedback_type=FeedbackType.PROMOTION_DECISION
    )
    assert event.metrics["promoted"] == 0.0 and "rating_gain=-20" in event.context["staging"]


def test_a_rejected_candidate_never_enters_staging(settings):
    decision, model_id = promote(settings, config(), decision="reject", rating=300.0, opponent_rating=120.0)
    assert decision == "rejected"
    assert stages_of(settings, model_id) == [ModelStage.EVALUATION, ModelStage.RETIRED]


def test_the_staging_policy_is_a_setting(settings):
    strict = config(staging_policy=PromotionPolicy(min_rating_gain=250.0))
    decision, _ = promote(settings, strict, decision="accept", rating=300.0, opponent_rating=120.0)
    assert decision == "rejected"


def test_without_anchors_staging_has_no_rule_and_no_rating_is_needed():
    assert config().staging == PromotionPolicy(min_rating_gain=0.0)
    assert config(anchors_games=0).staging.is_empty()
    assert config(anchors=[]).staging.is_empty()
    unrated = evaluation("hex5_2p_v1", "uniform_mcts_4", decision="accept", rating=1.0, opponent_rating=0.0)
    unrated = unrated.model_copy(update={"ratings": []})
    assert "rating_gain" not in pipeline_stages.staging_evidence(unrated)
    assert PromotionPolicy(min_rating_gain=0.0).check(elo_delta=1.0, evidence={})[0].rule == "min_rating_gain"
