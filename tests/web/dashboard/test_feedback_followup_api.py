"""The dashboard's feedback view shows the loop's verdict on each applied change and the rules backed off."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.integration.feedback import FeedbackType, PipelineFeedback
from app.web.main import create_app

KEY = "hex6_2p"


def _history(settings: Settings) -> list[str]:
    """Two learning-rate decays after which candidates gained less Elo over production: the rule is backed off."""
    fb, version, applied = PipelineFeedback(settings), 0, []

    def cycle(elo_delta: float) -> None:
        nonlocal version
        version += 1
        fb.record(FeedbackType.TRAINING_COMPLETE, f"{KEY}_v{version}", {"loss": 1.0, "val_loss": 1.0})
        fb.record(FeedbackType.EVALUATION_RESULT, f"{KEY}_v{version}", {"elo_delta": elo_delta})
        fb.record(FeedbackType.PROMOTION_DECISION, f"{KEY}_v{version}", {"promoted": 1})
        fb.follow_up(KEY)

    for _ in range(4):
        cycle(50.0)
    for worse in (40.0, 30.0):
        [rec] = [r for r in fb.get_recommendations(KEY) if r.rule == "loss_plateau"]
        applied.append(fb.mark_applied(rec).identity)
        for _ in range(4):
            cycle(worse)
    return applied


def test_applied_changes_carry_their_verdict_and_backed_off_rules_are_listed(home):
    settings = Settings(home=home)
    first, second = _history(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        body = client.get("/api/feedback/applied", params={"config_key": KEY}).json()
    verdicts = {a["identity"]: a["verdict"] for a in body["data"]}
    assert verdicts[first] | {"event_id": 0} == {
        "event_id": 0,
        "improved": False,
        "metric": "elo_delta",
        "before": 50.0,
        "after": 40.0,
    }
    assert verdicts[second]["after"] == 30.0 and not verdicts[second]["improved"]
    [plateau] = [r for r in body["rules"] if r["rule"] == "loss_plateau"]
    assert plateau["backed_off"] and plateau["failed"] == 2 and plateau["backoff_cycles_left"] == 3
