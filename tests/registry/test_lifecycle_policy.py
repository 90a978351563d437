import json

import pytest
from pydantic import ValidationError

from app.core.errors import PromotionRejected
from app.registry import ModelLifecycle, ModelStage, PromotionPolicy

S = ModelStage
GOOD = {"games": 400, "elo_ci_low": 8.0, "elo_ci_high": 52.0, "llr": 2.97, "sprt": "accept"}


def rules_failed(policy: PromotionPolicy, elo_delta, evidence) -> list[str]:
    return [f.rule for f in policy.check(elo_delta=elo_delta, evidence=evidence)]


def test_empty_policy_accepts_anything():
    assert PromotionPolicy().check(elo_delta=None, evidence={}) == []
    assert PromotionPolicy().is_empty()


@pytest.mark.parametrize(
    ("policy", "elo_delta", "evidence", "failed", "message"),
    [
        (PromotionPolicy(min_elo_delta=20), 19.5, {}, ["min_elo_delta"], "elo_delta=19.5 < 20"),
        (PromotionPolicy(min_elo_delta=20), 20, {}, [], None),
        (PromotionPolicy(min_elo_delta=20), None, {}, ["min_elo_delta"], "no elo_delta given"),
        (PromotionPolicy(min_games=400), 0, {"games": 399}, ["min_games"], "games=399 < 400"),
        (PromotionPolicy(min_games=400), 0, {"games": 400}, [], None),
        (PromotionPolicy(min_games=400), 0, {}, ["min_games"], "evidence lacks a number 'games'"),
        (PromotionPolicy(min_games=400), 0, {"games": "many"}, ["min_games"], "got 'many'"),
        (PromotionPolicy(require_sprt_accept=True), 0, {"sprt": "inconclusive"}, ["require_sprt_accept"], "sprt='inconclusive'"),
        (PromotionPolicy(require_sprt_accept=True), 0, {"sprt": "accept"}, [], None),
        (PromotionPolicy(require_sprt_accept=True), 0, {}, ["require_sprt_accept"], "sprt=None"),
        (PromotionPolicy(min_elo_ci_low=0), 0, {"elo_ci_low": -3.5}, ["min_elo_ci_low"], "elo_ci_low=-3.5 < 0"),
        (PromotionPolicy(min_elo_ci_low=0), 0, {"elo_ci_low": 0.1}, [], None),
        (PromotionPolicy(max_elo_ci_width=50), 0, {"elo_ci_low": -10, "elo_ci_high": 45}, ["max_elo_ci_width"], "=55 > 50"),
        (PromotionPolicy(max_elo_ci_width=50), 0, {"elo_ci_low": -10, "elo_ci_high": 40}, [], None),
    ],
)  # fmt: skip
def test_each_rule_alone(policy, elo_delta, evidence, failed, message):
    failures = policy.check(elo_delta=elo_delta, evidence=evidence)
    assert [f.rule for f in failures] == failed
    if message:
        assert message in str(failures[0])


def test_every_failed_rule_is_reported():
    policy = PromotionPolicy(min_elo_delta=30, min_games=400, require_sprt_accept=True, min_elo_ci_low=0)
    assert rules_failed(policy, 10, {"games": 100, "sprt": "reject", "elo_ci_low": -5}) == [
        "min_elo_delta",
        "min_games",
        "require_sprt_accept",
        "min_elo_ci_low",
    ]
    assert rules_failed(policy, 45, GOOD) == []


def test_policy_is_declarative_data():
    text = json.dumps({"min_elo_delta": 25, "min_games": 200, "require_sprt_accept": True})
    policy = PromotionPolicy.model_validate_json(text)
    assert policy.min_games == 200 and policy.require_sprt_accept
    with pytest.raises(ValidationError, match="min_gmaes"):
        PromotionPolicy(min_gmaes=3)
    with pytest.raises(ValidationError):
        PromotionPolicy(min_games=-1)


def test_rejected_promotion_names_rules_and_values_and_changes_nothing(settings):
    lc = ModelLifecycle(settings)
    lc.register_model("hex8_2p_v1", S.EVALUATION)
    lc.promote_to_production("hex8_2p_v1")
    lc.register_model("hex8_2p_v2", S.EVALUATION)
    policy = PromotionPolicy(min_elo_delta=30, min_games=400, require_sprt_accept=True)
    with pytest.raises(PromotionRejected) as err:
        lc.promote_to_production(
            "hex8_2p_v2", elo_delta=12, evidence={"games": 150, "sprt": "inconclusive"}, policy=policy
        )
    msg = str(err.value)
    assert "hex8_2p_v2" in msg and "EVALUATION to PRODUCTION" in msg
    assert "min_elo_delta: elo_delta=12 < 30" in msg
    assert "min_games: games=150 < 400" in msg
    assert "require_sprt_accept: sprt='inconclusive'" in msg
    assert lc.get_model("hex8_2p_v2").stage is S.EVALUATION
    assert lc.get_production("hex8_2p").model_id == "hex8_2p_v1"
    assert len(lc.history("hex8_2p_v2")) == 1 and len(lc.history("hex8_2p_v1")) == 2

    record = lc.promote_to_production("hex8_2p_v2", elo_delta=45, evidence=GOOD, policy=policy)
    assert record.stage is S.PRODUCTION
    assert lc.history("hex8_2p_v2")[-1].evidence == GOOD


def test_policy_applies_to_staging_and_production_only(settings):
    lc = ModelLifecycle(settings)
    lc.register_model("hex8_2p_v1")
    with pytest.raises(ValueError, match="STAGING and PRODUCTION only"):
        lc.promote_model("hex8_2p_v1", S.EVALUATION, policy=PromotionPolicy(min_games=1))
    lc.promote_model("hex8_2p_v1", S.EVALUATION)
    with pytest.raises(PromotionRejected, match="min_games"):
        lc.promote_model("hex8_2p_v1", S.STAGING, policy=PromotionPolicy(min_games=1))
    assert lc.promote_model(
        "hex8_2p_v1", S.STAGING, evidence={"games": 1}, policy=PromotionPolicy(min_games=1)
    )


def test_default_policy_of_the_lifecycle_and_elo_from_evidence(settings):
    lc = ModelLifecycle(settings, policy=PromotionPolicy(min_elo_delta=10))
    lc.register_model("hex8_2p_v1", S.EVALUATION)
    lc.register_model("hex8_2p_v2")
    lc.promote_model("hex8_2p_v2", S.EVALUATION)  # the default policy does not gate EVALUATION
    with pytest.raises(PromotionRejected):
        lc.promote_to_production("hex8_2p_v1")
    assert lc.promote_to_production("hex8_2p_v1", evidence={"elo_delta": 15}).stage is S.PRODUCTION
    assert lc.history("hex8_2p_v1")[-1].elo_delta == 15.0
    # without a policy the table alone decides
    assert ModelLifecycle(settings).promote_to_production("hex8_2p_v2").stage is S.PRODUCTION
