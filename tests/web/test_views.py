"""Read-only views of models, ratings and feedback through the node's API."""

import pytest
from fastapi.testclient import TestClient

from app.web.main import create_app


@pytest.fixture
def api(settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_models_list_show_and_history(api, settings):
    from app.registry import ModelLifecycle, ModelStage

    lifecycle = ModelLifecycle(settings)
    lifecycle.register_model("hex8_2p_v1", ModelStage.TRAINING, metrics={"loss": 0.5})
    lifecycle.register_model("hex8_2p_v2", ModelStage.TRAINING, parent_model_id="hex8_2p_v1")
    lifecycle.register_model("connect4_3p_v1", ModelStage.TRAINING)
    lifecycle.promote_model("hex8_2p_v2", stage=ModelStage.EVALUATION, elo_delta=45)

    listing = api.get("/api/models", params={"config_key": "hex8_2p"}).json()
    assert listing["count"] == 2 and [m["model_id"] for m in listing["data"]] == ["hex8_2p_v1", "hex8_2p_v2"]
    staged = api.get("/api/models", params={"stage": "evaluation"}).json()
    assert [m["model_id"] for m in staged["data"]] == ["hex8_2p_v2"]

    shown = api.get("/api/models/hex8_2p_v2").json()
    assert shown["model"]["stage"] == "EVALUATION" and shown["model"]["parent_model_id"] == "hex8_2p_v1"
    assert [m["model_id"] for m in shown["lineage"]] == ["hex8_2p_v1"]
    history = api.get("/api/models/hex8_2p_v2/history").json()
    assert [(t["from_stage"], t["to_stage"]) for t in history] == [
        (None, "TRAINING"),
        ("TRAINING", "EVALUATION"),
    ]
    assert history[1]["elo_delta"] == 45


def test_model_views_reject_bad_input(api):
    assert api.get("/api/models/hex8_2p_v9").status_code == 404
    assert "hex8_2p_v9" in api.get("/api/models/hex8_2p_v9").json()["detail"]
    assert api.get("/api/models/hex8_2p_v9/history").status_code == 404
    assert api.get("/api/models/not-a-model").status_code == 422
    assert api.get("/api/models", params={"config_key": "hex8"}).status_code == 422
    r = api.get("/api/models", params={"stage": "LIMBO"})
    assert r.status_code == 422 and "LIMBO" in r.json()["detail"]


def test_feedback_events_and_recommendations(api, settings):
    from app.integration.feedback import FeedbackType, PipelineFeedback

    feedback = PipelineFeedback(settings)
    feedback.record(FeedbackType.TRAINING_COMPLETE, model_id="hex8_2p_v3", metrics={"loss": 0.025})
    events = api.get("/api/feedback", params={"config_key": "hex8_2p"}).json()
    assert events["count"] == 1 and events["data"][0]["metrics"] == {"loss": 0.025}
    assert api.get("/api/feedback", params={"config_key": "connect4_2p"}).json()["count"] == 0
    recs = api.get("/api/feedback/recommendations", params={"config_key": "hex8_2p"})
    assert recs.status_code == 200
    expected = [r.to_dict() for r in feedback.get_recommendations("hex8_2p")]
    assert recs.json() == expected
    assert api.get("/api/feedback", params={"limit": 0}).status_code == 422


def test_ratings_are_fitted_over_stored_games(api, settings):
    from app.evaluation.arena import PlayedGame
    from app.evaluation.store import save_games

    games = [
        PlayedGame(
            players=("random", "hex5_2p_v1"), returns=(-1.0, 1.0), opening=(), moves=(0, 1), opening_group=i
        )
        for i in range(6)
    ] + [
        PlayedGame(
            players=("hex5_2p_v1", "random"), returns=(-1.0, 1.0), opening=(), moves=(0,), opening_group=9
        )
    ]
    save_games(settings, "hex5_2p", games, purpose="anchor")
    table = api.get("/api/ratings/hex5_2p").json()
    assert table["anchor"] == "random" and table["games"] == 7
    by_name = {r["name"]: r for r in table["ratings"]}
    assert by_name["random"]["elo"] == 0 and by_name["hex5_2p_v1"]["elo"] > 0
    assert by_name["hex5_2p_v1"]["ci_low"] < by_name["hex5_2p_v1"]["elo"] < by_name["hex5_2p_v1"]["ci_high"]
    assert api.get("/api/ratings/connect4_3p").json() == {
        "anchor": "random",
        "ratings": [],
        "unrated": [],
        "games": 0,
        "pinned": {},  # no anchor calibration stored for this key
    }
    assert api.get("/api/ratings/chess_2p").status_code == 422
    assert api.get("/api/ratings/hex8").status_code == 422
