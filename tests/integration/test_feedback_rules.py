"""Each rule on hand-built histories: when it fires, what it says, when it stays quiet."""

from datetime import UTC, datetime

import pytest

from app.integration.feedback_error_rules import (
    failure_streak,
    is_oom,
    pipeline_oom,
    pipeline_pause,
    pipeline_retry,
)
from app.integration.feedback_rules import (
    RULES,
    FeedbackThresholds,
    RuleInput,
    elo_plateau,
    evaluate,
    loss_plateau,
    overfitting,
    production_regression,
    promotion_rejections,
    train_loss,
    weak_win_rate,
)
from app.integration.feedback_types import Action, ChangeKind, FeedbackEvent, FeedbackType, Priority

F = FeedbackType
T = FeedbackThresholds()
KEY = "hex8_2p"


class History:
    """Builds events with ids 1, 2, 3 ... in order."""

    def __init__(self):
        self.events: list[FeedbackEvent] = []

    def add(self, ftype, model=None, error=None, context=None, **metrics) -> FeedbackEvent:
        e = FeedbackEvent(
            id=len(self.events) + 1,
            at=datetime(2026, 1, 1, tzinfo=UTC),
            feedback_type=ftype,
            model_id=model,
            config_key=KEY,
            metrics=metrics,
            context=context or {},
            error=error,
        )
        self.events.append(e)
        return e

    def run(self, rule, name=None, applied=None, thresholds=T):
        name = name or rule.__name__
        return rule(RuleInput(name, KEY, list(self.events), applied or {}), thresholds)


@pytest.fixture
def h() -> History:
    return History()


def test_rule_names_are_the_function_names():
    assert [name for name, fn in RULES] == [fn.__name__ for _, fn in RULES]


# -- loss plateau -------------------------------------------------------------------------------------------


def test_loss_plateau_fires_when_losses_stay_flat(h):
    for v, loss in enumerate([0.500, 0.497, 0.502, 0.495], start=1):
        h.add(F.TRAINING_COMPLETE, f"hex8_2p_v{v}", loss=loss)
    [rec] = h.run(loss_plateau)
    assert (rec.action, rec.kind, rec.changes, rec.priority) == (
        Action.DECAY_LEARNING_RATE,
        ChangeKind.MULTIPLY,
        {"learning_rate": 0.5},
        Priority.MEDIUM,
    )
    assert rec.evidence_ids == (1, 2, 3, 4)
    assert "0.5 (#1), 0.497 (#2), 0.502 (#3), 0.495 (#4)" in rec.reason and "1.00%" in rec.reason


@pytest.mark.parametrize(
    "losses",
    [
        [0.50, 0.47, 0.45, 0.43],  # still improving
        [0.50, 0.55, 0.60, 0.65],  # rising is not a plateau
        [0.50, 0.50, 0.50],  # too few runs
    ],
)
def test_loss_plateau_quiet(h, losses):
    for loss in losses:
        h.add(F.TRAINING_COMPLETE, loss=loss)
    assert h.run(loss_plateau) == []


def test_loss_plateau_uses_policy_plus_value_loss_and_needs_fresh_window(h):
    for _ in range(4):
        h.add(F.TRAINING_COMPLETE, policy_loss=1.0, value_loss=0.2)
    assert train_loss(h.events[0]) == pytest.approx(1.2)
    assert len(h.run(loss_plateau)) == 1
    assert h.run(loss_plateau, applied={"loss_plateau": 1}) == []  # window starts at #1, already acted on
    assert h.run(loss_plateau, applied={"other_rule": 4}) != []


# -- overfitting --------------------------------------------------------------------------------------------


def test_overfitting_train_falls_while_validation_rises(h):
    for loss, val in [(1.0, 1.00), (0.9, 1.02), (0.8, 1.05)]:
        h.add(F.TRAINING_COMPLETE, loss=loss, val_loss=val, accuracy=0.7)
    [rec] = h.run(overfitting)
    assert rec.action is Action.REDUCE_OVERFITTING and rec.priority is Priority.HIGH
    assert rec.changes == {"epochs": 0.5, "replay_window": 1.5} and rec.kind is ChangeKind.MULTIPLY
    assert rec.evidence_ids == (1, 2, 3)
    assert "loss fell 1 (#1), 0.9 (#2), 0.8 (#3)" in rec.reason
    assert "val_loss rose 1 (#1), 1.02 (#2), 1.05 (#3)" in rec.reason and "5.0%" in rec.reason


def test_overfitting_on_the_policy_head_alone(h):
    for p, vp in [(2.0, 2.0), (1.8, 2.1), (1.6, 2.2)]:
        h.add(F.TRAINING_COMPLETE, policy_loss=p, val_policy_loss=vp, value_loss=0.3, val_value_loss=0.3)
    [rec] = h.run(overfitting)
    assert "policy_loss fell" in rec.reason and "val_policy_loss rose" in rec.reason


@pytest.mark.parametrize(
    "pairs",
    [
        [(1.0, 1.0), (0.9, 0.95), (0.8, 0.9)],  # both fall: learning
        [(1.0, 1.0), (1.1, 1.1), (1.2, 1.2)],  # both rise
        [(1.0, 1.0), (0.9, 1.01), (0.8, 1.01)],  # validation rise below 2%
        [(1.0, 1.0), (0.9, 1.2)],  # too few runs
    ],
)
def test_overfitting_quiet(h, pairs):
    for loss, val in pairs:
        h.add(F.TRAINING_COMPLETE, loss=loss, val_loss=val)
    assert h.run(overfitting) == []


# -- Elo plateau --------------------------------------------------------------------------------------------


def test_elo_plateau_over_several_evaluations(h):
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", elo_delta=80, games=200)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v5", elo_delta=6, elo_ci_low=-20, elo_ci_high=32, games=400)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v6", elo_delta=-3, games=400)
    assert h.run(elo_plateau) == []  # the window still holds the +80
    h.add(F.EVALUATION_RESULT, "hex8_2p_v7", elo_delta=9.5, llr=-1.2, games=400)
    [rec] = h.run(elo_plateau)
    assert rec.action is Action.INCREASE_SELFPLAY and rec.priority is Priority.MEDIUM
    assert rec.changes == {"selfplay_games": 1.5, "num_simulations": 1.25} and rec.kind is ChangeKind.MULTIPLY
    assert rec.evidence_ids == (2, 3, 4)
    assert "hex8_2p_v5 +6.0 [-20.0, +32.0] over 400 games (#2)" in rec.reason
    assert "hex8_2p_v6 -3.0 over 400 games (#3)" in rec.reason


def test_elo_plateau_threshold_comes_from_the_settings(h):
    for d in (12, 14, 11):
        h.add(F.EVALUATION_RESULT, elo_delta=d)
    assert h.run(elo_plateau) == []
    assert len(h.run(elo_plateau, thresholds=FeedbackThresholds(elo_plateau_max_gain=15))) == 1


# -- weak win rate ------------------------------------------------------------------------------------------


def test_weak_win_rate_against_an_opponent(h):
    h.add(
        F.EVALUATION_RESULT, "hex8_2p_v3", win_rate=0.35, games=100, context={"opponent": "rollout_mcts_200"}
    )
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", score=0.9, games=100, context={"opponent": "random"})
    [rec] = h.run(weak_win_rate)
    assert rec.action is Action.INCREASE_SEARCH and rec.priority is Priority.LOW
    assert rec.changes == {"num_simulations": 1.5} and rec.model_id == "hex8_2p_v3"
    assert rec.evidence_ids == (1,)
    assert "hex8_2p_v3 scored 0.35 over 100 games against rollout_mcts_200 (#1)" in rec.reason


def test_weak_win_rate_uses_the_latest_result_per_opponent_and_enough_games(h):
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", win_rate=0.3, games=100, context={"opponent": "mcts"})
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", win_rate=0.6, games=100, context={"opponent": "mcts"})
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", win_rate=0.1, games=4, context={"opponent": "random"})
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", win_rate=0.1, games=100)  # no opponent: not this rule's
    assert h.run(weak_win_rate) == []


def test_a_score_within_its_games_noise_of_even_is_not_weak(h):
    # A candidate level with production scores 0.45 over 64 games as often as 0.55: no reason to search more.
    margin = FeedbackThresholds(weak_win_rate_z=1)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", score=0.45, games=64, context={"opponent": "hex8_2p_v2"})
    assert h.run(weak_win_rate, thresholds=margin) == []
    assert len(h.run(weak_win_rate)) == 1  # the default has no margin
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", score=0.35, games=64, context={"opponent": "hex8_2p_v2"})
    [rec] = h.run(weak_win_rate, thresholds=margin)  # 0.35 + 1 x 0.06 is still below 0.5
    assert rec.evidence_ids == (2,)


# -- promotion rejections -----------------------------------------------------------------------------------


def test_repeated_promotion_rejections(h):
    h.add(F.PROMOTION_DECISION, "hex8_2p_v2", promoted=1)
    h.add(F.PROMOTION_DECISION, "hex8_2p_v3", promoted=0)
    h.add(F.PROMOTION_DECISION, "hex8_2p_v4", promoted=0)
    assert h.run(promotion_rejections) == []
    h.add(F.PROMOTION_DECISION, "hex8_2p_v5", promoted=0)
    [rec] = h.run(promotion_rejections)
    assert rec.action is Action.INCREASE_SELFPLAY and rec.priority is Priority.HIGH
    assert rec.changes == {"selfplay_games": 2.0} and rec.evidence_ids == (2, 3, 4)
    assert "3 promotions rejected in a row: hex8_2p_v3 (#2), hex8_2p_v4 (#3), hex8_2p_v5 (#4)" in rec.reason
    # after it was applied at #4, it takes three new rejections to speak again
    h.add(F.PROMOTION_DECISION, "hex8_2p_v6", promoted=0)
    assert h.run(promotion_rejections, applied={"promotion_rejections": 4}) == []
    h.add(F.PROMOTION_DECISION, "hex8_2p_v7", promoted=0)
    h.add(F.PROMOTION_DECISION, "hex8_2p_v8", promoted=0)
    [again] = h.run(promotion_rejections, applied={"promotion_rejections": 4})
    assert again.evidence_ids == (5, 6, 7)


# -- production regression ----------------------------------------------------------------------------------


def test_production_regression_recommends_rollback(h):
    h.add(F.PROMOTION_DECISION, "hex8_2p_v3", promoted=1)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v4", elo_delta=-50)  # another model: not production
    assert h.run(production_regression) == []
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", elo_delta=-42, elo_ci_low=-70, elo_ci_high=-14, games=600)
    [rec] = h.run(production_regression)
    assert (rec.action, rec.priority, rec.model_id, rec.changes) == (
        Action.ROLLBACK,
        Priority.CRITICAL,
        "hex8_2p_v3",
        {},
    )
    assert rec.evidence_ids == (1, 3)
    assert (
        "hex8_2p_v3 (promoted #1)" in rec.reason and "-42.0 [-70.0, -14.0] over 600 games (#3)" in rec.reason
    )


@pytest.mark.parametrize(
    "metrics",
    [
        {"elo_delta": -20},  # drop too small
        {"elo_delta": -45, "elo_ci_low": -90, "elo_ci_high": 5},  # not surely worse
    ],
)
def test_production_regression_quiet(h, metrics):
    h.add(F.PROMOTION_DECISION, "hex8_2p_v3", promoted=1)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", **metrics)
    assert h.run(production_regression) == []


def test_production_regression_follows_the_latest_promotion(h):
    h.add(F.PROMOTION_DECISION, "hex8_2p_v3", promoted=1)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", elo_delta=-60)
    h.add(F.PROMOTION_DECISION, "hex8_2p_v4", promoted=1)
    assert h.run(production_regression) == []


# -- pipeline errors ----------------------------------------------------------------------------------------


def test_single_error_retries_with_backoff(h):
    h.add(F.TRAINING_COMPLETE, loss=1.0)
    h.add(F.PIPELINE_ERROR, error="worker lost", context={"stage": "selfplay"})
    [rec] = h.run(pipeline_retry)
    assert (rec.action, rec.kind, rec.changes, rec.priority) == (
        Action.RETRY,
        ChangeKind.SET,
        {"retry_delay_s": 30.0},
        Priority.HIGH,
    )
    assert "#2 in selfplay: 'worker lost'" in rec.reason
    h.add(F.PIPELINE_ERROR, error="worker lost")
    [rec] = h.run(pipeline_retry, applied={"pipeline_retry": 2})
    assert rec.changes == {"retry_delay_s": 60.0} and rec.evidence_ids == (3,)
    assert h.run(pipeline_oom) == [] and h.run(pipeline_pause) == []


def test_backoff_is_capped(h):
    for _ in range(12):
        h.add(F.PIPELINE_ERROR, error="flaky")
    [rec] = h.run(pipeline_retry, thresholds=FeedbackThresholds(pause_after_failures=100))
    assert rec.changes == {"retry_delay_s": 3600.0}


@pytest.mark.parametrize(
    ("error", "metrics"),
    [
        ("CUDA out of memory. Tried to allocate 2.00 GiB", {}),
        ("RuntimeError: OOM when allocating tensor", {}),
        ("MemoryError", {}),
        ("killed", {"oom": 1}),
    ],
)
def test_out_of_memory_halves_the_batch(h, error, metrics):
    h.add(F.PIPELINE_ERROR, "hex8_2p_v3", error=error, **metrics)
    assert is_oom(h.events[-1])
    [rec] = h.run(pipeline_oom)
    assert (rec.action, rec.kind, rec.changes) == (
        Action.REDUCE_BATCH_SIZE,
        ChangeKind.MULTIPLY,
        {"batch_size": 0.5},
    )
    assert h.run(pipeline_retry) == []


def test_repeated_failures_pause_the_config_instead_of_retrying(h):
    h.add(F.PIPELINE_ERROR, error="a")
    h.add(F.PIPELINE_ERROR, error="b")
    h.add(F.PIPELINE_ERROR, error="CUDA out of memory")
    [rec] = h.run(pipeline_pause)
    assert (rec.action, rec.priority, rec.evidence_ids) == (Action.PAUSE_CONFIG, Priority.CRITICAL, (1, 2, 3))
    assert "3 consecutive pipeline failures" in rec.reason
    assert h.run(pipeline_retry) == [] and h.run(pipeline_oom) == []
    # once the pause was applied, the next failure is retried again (with a long backoff) ...
    h.add(F.PIPELINE_ERROR, error="d")
    applied = {"pipeline_pause": 3}
    assert h.run(pipeline_pause, applied=applied) == []
    [retry] = h.run(pipeline_retry, applied=applied)
    assert retry.changes == {"retry_delay_s": 240.0}
    # ... and three new failures pause it again
    h.add(F.PIPELINE_ERROR, error="e")
    h.add(F.PIPELINE_ERROR, error="f")
    assert h.run(pipeline_pause, applied=applied)[0].evidence_ids == (4, 5, 6)


def test_a_success_ends_the_failure_streak(h):
    h.add(F.PIPELINE_ERROR, error="a")
    h.add(F.PIPELINE_ERROR, error="b")
    h.add(F.TRAINING_COMPLETE, loss=1.0)
    h.add(F.PIPELINE_ERROR, error="c")
    assert [e.id for e in failure_streak(h.events)] == [4]
    assert h.run(pipeline_pause) == []
    h.add(F.TRAINING_COMPLETE, loss=1.0)
    assert h.run(pipeline_retry) == []


# -- all rules together -------------------------------------------------------------------------------------


def test_evaluate_orders_by_priority_then_rule_and_is_deterministic(h):
    for loss, val in [(1.0, 1.0), (0.9, 1.05), (0.8, 1.1)]:
        h.add(F.TRAINING_COMPLETE, loss=loss, val_loss=val)
    h.add(F.EVALUATION_RESULT, win_rate=0.2, games=50, context={"opponent": "random"})
    h.add(F.PROMOTION_DECISION, "hex8_2p_v3", promoted=1)
    h.add(F.EVALUATION_RESULT, "hex8_2p_v3", elo_delta=-80)
    h.add(F.PIPELINE_ERROR, error="boom")
    recs = evaluate({KEY: h.events, "hex6_2p": []}, {}, set(), T)
    assert [r.rule for r in recs] == [
        "production_regression",
        "pipeline_retry",
        "overfitting",
        "weak_win_rate",
    ]
    assert [r.priority for r in recs] == sorted((r.priority for r in recs), reverse=True)
    assert evaluate({KEY: list(h.events)}, {}, set(), T) == recs
    # an applied identity is left out; an applied cut-off silences its rule for old evidence
    assert evaluate({KEY: h.events}, {}, {recs[0].identity}, T) == recs[1:]
    assert [r.rule for r in evaluate({KEY: h.events}, {(KEY, "overfitting"): 3}, set(), T)] == [
        "production_regression",
        "pipeline_retry",
        "weak_win_rate",
    ]
