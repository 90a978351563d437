import json

import pytest

from app.integration.feedback import Action, FeedbackType, PipelineFeedback
from tests.cli.zl import run_cli


@pytest.fixture
def zl(capsys, monkeypatch):
    return lambda *args: run_cli(capsys, monkeypatch, *args)


def test_record_and_history(zl, settings):
    r = zl("feedback", "record", "training_complete", "hex8_2p_v3", "-m", "loss=0.025", "-m", "accuracy=0.76")
    assert r.code == 0 and "recorded #1 TRAINING_COMPLETE for hex8_2p_v3" in r.out
    r = zl(
        "feedback",
        "record",
        "evaluation_result",
        "hex8_2p_v3",
        "-m",
        "win_rate=0.3",
        "--context",
        "opponent=random",
    )
    assert r.code == 0
    r = zl("feedback", "record", "pipeline_error", "--config", "hex8_2p", "--error", "CUDA out of memory")
    assert r.code == 0
    [train, evaluation, error] = PipelineFeedback(settings).history()
    assert train.metrics == {"loss": 0.025, "accuracy": 0.76}
    assert evaluation.context == {"opponent": "random"}
    assert (error.feedback_type, error.error, error.model_id) == (
        FeedbackType.PIPELINE_ERROR,
        "CUDA out of memory",
        None,
    )
    rows = json.loads(zl("feedback", "history", "--json", "--type", "pipeline_error").out)
    assert [row["id"] for row in rows] == [3]
    r = zl("feedback", "history")
    assert r.code == 0 and "TRAINING_COMPLETE" in r.out


def test_recommend_and_apply(zl, settings):
    fb = PipelineFeedback(settings)
    for loss, val in [(1.0, 1.0), (0.9, 1.05), (0.8, 1.1)]:
        fb.record(FeedbackType.TRAINING_COMPLETE, "hex8_2p_v1", {"loss": loss, "val_loss": val})
    fb.record(FeedbackType.PIPELINE_ERROR, config_key="hex6_2p", metrics={"error": "node lost"})
    recs = json.loads(zl("feedback", "recommend", "--json").out)
    assert [r["action"] for r in recs] == ["RETRY", "REDUCE_OVERFITTING"]
    assert recs[1]["changes"] == {"epochs": 0.5, "replay_window": 1.5} and recs[1]["kind"] == "MULTIPLY"
    r = zl("feedback", "recommend", "--config", "hex8_2p")
    assert r.code == 0 and "REDUCE_OVERFITTING" in r.out and "RETRY" not in r.out
    r = zl("feedback", "apply", recs[0]["identity"])
    assert r.code == 0 and "marked" in r.out
    assert [x.action for x in fb.get_recommendations()] == [Action.REDUCE_OVERFITTING]


def test_no_recommendations_message(zl):
    r = zl("feedback", "recommend")
    assert r.code == 0 and "no recommendations" in r.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("feedback", "record", "training_done", "hex8_2p_v3"), "unknown feedback type 'training_done'"),
        (
            ("feedback", "record", "training_complete", "hex8_2p_v3", "-m", "loss=abc"),
            "'loss' must be a finite number",
        ),
        (
            ("feedback", "record", "training_complete", "hex8_2p_v3", "-m", "loss=nan"),
            "'loss' must be a finite number",
        ),
        (
            ("feedback", "record", "training_complete", "hex8_2p_v3", "-m", "loss"),
            "metric must look like KEY=VALUE",
        ),
        (("feedback", "record", "training_complete"), "give a model_id or a config_key"),
        (("feedback", "record", "promotion_decision", "hex8_2p_v3"), "promoted"),
        (("feedback", "recommend", "--config", "hex8"), "malformed config key"),
        (("feedback", "apply", "0123456789abcdef"), "no current recommendation"),
    ],
)
def test_bad_input_exits_2_and_stores_nothing(zl, settings, args, message):
    r = zl(*args)
    assert r.code == 2
    assert message in " ".join(r.err.split())
    assert PipelineFeedback(settings).history() == []


def test_rules_show_verdicts_and_a_backed_off_rule(zl, settings):
    fb = PipelineFeedback(settings)
    version = 0

    def cycle(elo_delta: float) -> None:
        nonlocal version
        version += 1
        fb.record(FeedbackType.TRAINING_COMPLETE, f"hex8_2p_v{version}", {"loss": 1.0, "val_loss": 1.0})
        fb.record(FeedbackType.EVALUATION_RESULT, f"hex8_2p_v{version}", {"elo_delta": elo_delta})
        fb.record(FeedbackType.PROMOTION_DECISION, f"hex8_2p_v{version}", {"promoted": 1})
        fb.follow_up("hex8_2p")

    for _ in range(4):
        cycle(50.0)
    for worse in (40.0, 30.0):  # two decays in a row that did not help
        [rec] = [r for r in fb.get_recommendations("hex8_2p") if r.rule == "loss_plateau"]
        fb.mark_applied(rec)
        for _ in range(4):
            cycle(worse)
    r = zl("feedback", "rules", "--config", "hex8_2p")
    assert r.code == 0
    assert "backed off" in r.out and "did not help: elo_delta 40 -> 30" in r.out
    data = json.loads(zl("feedback", "rules", "--config", "hex8_2p", "--json").out)
    [plateau] = [s for s in data["rules"] if s["rule"] == "loss_plateau"]
    assert plateau["backed_off"] and plateau["failed"] == 2 and plateau["applied"] == 2
    assert [v["metrics"]["after"] for v in data["verdicts"]] == [40.0, 30.0]
