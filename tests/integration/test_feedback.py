import math

import pytest

from app.core.errors import NotFound
from app.integration.feedback import (
    Action,
    FeedbackThresholds,
    FeedbackType,
    PipelineFeedback,
    Recommendation,
)
from app.integration.feedback_types import ChangeKind, Priority

F = FeedbackType


def overfit(fb: PipelineFeedback, key: str = "hex8_2p", start: int = 1) -> None:
    for i, (loss, val) in enumerate([(1.0, 1.0), (0.9, 1.05), (0.8, 1.1)]):
        fb.record(F.TRAINING_COMPLETE, f"{key}_v{start + i}", {"loss": loss, "val_loss": val})


def test_feedback_types_are_the_seeds_and_the_loops_own_follow_up():
    # The seed's four types, then FOLLOW_UP: the loop's verdict on a change it applied (issue 13).
    assert [t.value for t in FeedbackType] == [
        "TRAINING_COMPLETE",
        "EVALUATION_RESULT",
        "PROMOTION_DECISION",
        "PIPELINE_ERROR",
        "FOLLOW_UP",
    ]


def test_record_persists_time_model_config_and_metrics(fb, settings):
    event = fb.record(
        feedback_type=F.TRAINING_COMPLETE, model_id="hex8_2p_v3", metrics={"loss": 0.025, "accuracy": 0.76}
    )
    assert (event.model_id, event.config_key, event.metrics) == (
        "hex8_2p_v3",
        "hex8_2p",
        {"loss": 0.025, "accuracy": 0.76},
    )
    [stored] = PipelineFeedback(settings).history()  # a new instance reads it back from the database
    assert stored == event and stored.at.tzinfo is not None


def test_record_accepts_type_names_config_keys_context_and_error_text(fb):
    e = fb.record(
        "evaluation_result", "hex8_2p_v3", {"win_rate": 0.4, "games": 200}, context={"opponent": "random"}
    )
    assert e.feedback_type is F.EVALUATION_RESULT and e.context == {"opponent": "random"}
    e = fb.record(F.PIPELINE_ERROR, config_key="hex6_2p", metrics={"error": "disk full", "exit_code": 1})
    assert (e.model_id, e.config_key, e.error, e.metrics) == (None, "hex6_2p", "disk full", {"exit_code": 1})
    e = fb.record(F.PROMOTION_DECISION, "hex8_2p_v3", {"promoted": True})
    assert e.metrics == {"promoted": 1}
    e = fb.record(F.TRAINING_COMPLETE, "hex8_2p_nightly", {"loss": 1}, config_key="hex8_2p")
    assert e.config_key == "hex8_2p"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metrics": {"loss": math.nan}}, "'loss' must be a finite number"),
        ({"metrics": {"loss": math.inf}}, "'loss' must be a finite number"),
        ({"metrics": {"loss": "0.5"}}, "only a PIPELINE_ERROR may carry an 'error' text"),
        ({"metrics": {"loss": None}}, "'loss' must be a finite number"),
        ({"metrics": {"loss": [1, 2]}}, "'loss' must be a finite number"),
        ({"metrics": {"error": "oops"}}, "'error' must be a finite number"),
        ({"metrics": {"": 1.0}}, "metric names"),
        ({"metrics": [("loss", 1.0)]}, "mapping"),
        (
            {"feedback_type": "TRAINING_DONE"},
            "unknown feedback type 'TRAINING_DONE'; valid types: TRAINING_COMPLETE",
        ),
        ({"model_id": "hex8-2p"}, "malformed model id"),
        ({"model_id": None}, "give a model_id or a config_key"),
        ({"config_key": "hex6_2p"}, "belongs to config key 'hex8_2p', not 'hex6_2p'"),
        ({"config_key": "hex6"}, "malformed config key"),
        ({"context": {"opponent": 3}}, "context entries"),
        ({"feedback_type": F.PROMOTION_DECISION, "metrics": {"promoted": 2}}, "promoted"),
        ({"feedback_type": F.PROMOTION_DECISION, "metrics": {}}, "promoted"),
        ({"feedback_type": F.PIPELINE_ERROR, "metrics": {"error": ""}}, "non-empty text"),
    ],
)
def test_bad_records_are_value_errors_and_store_nothing(fb, kwargs, match):
    call = {
        "feedback_type": F.TRAINING_COMPLETE,
        "model_id": "hex8_2p_v3",
        "metrics": {"loss": 0.5},
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        fb.record(**call)
    assert fb.history() == []


def test_history_filters(fb):
    fb.record(F.TRAINING_COMPLETE, "hex8_2p_v1", {"loss": 1.0})
    fb.record(F.EVALUATION_RESULT, "hex8_2p_v1", {"elo_delta": 3})
    fb.record(F.TRAINING_COMPLETE, "hex6_2p_v1", {"loss": 2.0})
    fb.record(F.TRAINING_COMPLETE, "hex8_2p_v2", {"loss": 0.9})
    assert [e.id for e in fb.history()] == [1, 2, 3, 4]
    assert [e.id for e in fb.history("hex8_2p")] == [1, 2, 4]
    assert [e.id for e in fb.history(model_id="hex8_2p_v1")] == [1, 2]
    assert [e.id for e in fb.history(feedback_type="training_complete")] == [1, 3, 4]
    assert [e.id for e in fb.history(limit=2)] == [3, 4]


def test_seed_record_alone_gives_no_recommendation(fb):
    fb.record(
        feedback_type=F.TRAINING_COMPLETE, model_id="hex8_2p_v3", metrics={"loss": 0.025, "accuracy": 0.76}
    )
    assert fb.get_recommendations() == []


def test_recommendations_are_urgent_first_per_config_and_deterministic(fb, settings):
    overfit(fb, "hex8_2p")
    fb.record(F.PIPELINE_ERROR, config_key="hex6_2p", metrics={"error": "CUDA out of memory"})
    fb.record(F.PROMOTION_DECISION, "hex6_2p_v2", {"promoted": 1})
    fb.record(F.EVALUATION_RESULT, "hex6_2p_v2", {"elo_delta": -75, "elo_ci_high": -20, "games": 800})
    recs = fb.get_recommendations()
    assert [(r.config_key, r.action) for r in recs] == [
        ("hex6_2p", Action.ROLLBACK),
        ("hex8_2p", Action.REDUCE_OVERFITTING),
    ]
    assert all(isinstance(r, Recommendation) for r in recs)
    assert "#5" in recs[0].reason and "-75.0" in recs[0].reason
    assert PipelineFeedback(settings).get_recommendations() == recs
    assert [r.action for r in fb.get_recommendations("hex8_2p")] == [Action.REDUCE_OVERFITTING]
    assert fb.get_recommendations("hex4_2p") == []


def test_same_history_same_recommendations_in_another_installation(tmp_path, settings):
    from app.core.config import Settings

    def build(s):
        f = PipelineFeedback(s)
        overfit(f)
        for _ in range(3):
            f.record(F.PROMOTION_DECISION, "hex8_2p_v9", {"promoted": 0})
        return f.get_recommendations()

    first = build(settings)
    second = build(Settings(home=tmp_path / "other"))
    assert [r.to_dict() for r in first] == [r.to_dict() for r in second]
    assert len(first) == 2


def test_mark_applied_is_not_repeated_and_persists(fb, settings):
    overfit(fb)
    [rec] = fb.get_recommendations()
    assert fb.mark_applied(rec) == rec
    assert fb.get_recommendations() == []
    assert PipelineFeedback(settings).get_recommendations() == []
    fb.mark_applied(rec)  # twice is harmless
    # new evidence after the applied change: the rule needs a whole fresh window to speak again
    fb.record(F.TRAINING_COMPLETE, "hex8_2p_v4", {"loss": 0.7, "val_loss": 1.2})
    assert fb.get_recommendations() == []
    overfit(fb, start=5)
    assert fb.get_recommendations() == []  # cooling down: no cycle has ended since the change
    for version in (8, 9):  # a PROMOTION_DECISION closes a cycle
        fb.record(F.PROMOTION_DECISION, f"hex8_2p_v{version}", {"promoted": 1})
    [again] = fb.get_recommendations()
    assert again.identity != rec.identity and again.evidence_ids == (5, 6, 7)


def test_mark_applied_by_identity(fb):
    fb.record(F.PIPELINE_ERROR, config_key="hex8_2p", metrics={"error": "timeout"})
    [rec] = fb.get_recommendations()
    assert fb.mark_applied(rec.identity) == rec
    assert fb.get_recommendations() == []
    assert fb.mark_applied(rec.identity).identity == rec.identity  # still known once applied
    with pytest.raises(NotFound, match="no current recommendation 'nope'"):
        fb.mark_applied("nope")
    with pytest.raises(LookupError):
        fb.mark_applied("nope")


def test_thresholds_are_one_settings_object(settings, monkeypatch):
    monkeypatch.setenv("ZEROLOOP_FEEDBACK_PAUSE_AFTER_FAILURES", "1")
    assert FeedbackThresholds().pause_after_failures == 1
    fb = PipelineFeedback(settings)
    fb.record(F.PIPELINE_ERROR, config_key="hex8_2p", metrics={"error": "x"})
    assert [r.action for r in fb.get_recommendations()] == [Action.PAUSE_CONFIG]
    strict = PipelineFeedback(settings, thresholds=FeedbackThresholds(pause_after_failures=5))
    assert [r.action for r in strict.get_recommendations()] == [Action.RETRY]
    with pytest.raises(ValueError):
        FeedbackThresholds(lr_decay_factor=2.0)


def _rec(kind, changes):
    return Recommendation(
        action=Action.INCREASE_SELFPLAY,
        config_key="hex8_2p",
        changes=changes,
        kind=kind,
        reason="r",
        priority=Priority.LOW,
        rule="elo_plateau",
        evidence_ids=(3, 1, 2),
    )


def test_recommendation_apply_multiplies_or_sets():
    config = {"selfplay_games": 500, "num_simulations": 64, "learning_rate": 0.002, "batch_size": 3}
    out = _rec(ChangeKind.MULTIPLY, {"selfplay_games": 1.5, "learning_rate": 0.5, "batch_size": 0.1}).apply(
        config
    )
    assert out == {"selfplay_games": 750, "num_simulations": 64, "learning_rate": 0.001, "batch_size": 1}
    assert config["selfplay_games"] == 500  # the input is not changed
    assert _rec(ChangeKind.SET, {"learning_rate": 0.0005}).apply(config)["learning_rate"] == 0.0005
    with pytest.raises(ValueError, match="cannot multiply 'epochs'"):
        _rec(ChangeKind.MULTIPLY, {"epochs": 2}).apply(config)


def test_recommendation_identity_and_description():
    a = _rec(ChangeKind.MULTIPLY, {"selfplay_games": 1.5})
    b = _rec(ChangeKind.MULTIPLY, {"selfplay_games": 2.0})
    assert a.identity == b.identity and len(a.identity) == 16  # same rule, config key and evidence
    assert hash(a) == hash(b)
    assert a.describe_changes() == "selfplay_games ×1.5"
    assert _rec(ChangeKind.SET, {"learning_rate": 0.0005}).describe_changes() == "learning_rate → 0.0005"
    assert a.to_dict()["priority"] == "LOW" and a.to_dict()["kind"] == "MULTIPLY"
