"""The dashboard's game viewer: every position of a stored game, with the model's view where it moved."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.evaluation import store
from app.evaluation.arena import PlayedGame
from app.web.main import create_app
from tests.records.test_records import _random_game
from tests.tiny_models import register_tiny_model


@pytest.fixture
def api(settings):
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_game_step_by_step_with_the_models_priors_and_value(settings, api):
    register_tiny_model(settings)
    moves, returns = _random_game("hex5_2p", seed=4)
    store.save_games(
        settings,
        "hex5_2p",
        [PlayedGame(("hex5_2p_v1", "random"), returns, moves[:2], moves, 0)],
        purpose="match",
    )
    listed = api.get("/api/games", params={"config_key": "hex5_2p"}).json()
    assert listed["count"] == 1 and listed["data"][0]["game_id"] == "arena:1"
    view = api.get("/api/games/arena:1").json()
    positions = view["positions"]
    assert len(positions) == len(moves) + 1 and positions[-1]["to_move"] is None
    assert [p["move"] for p in positions[:-1]] == view["moves"] and positions[0]["in_opening"]
    for p in positions[:-1]:
        if p["to_move"] == 0:  # the model's seat: its network's view
            model = p["model"]
            assert model["model"] == "hex5_2p_v1" and len(model["value"]) == 2
            priors = [t["prior"] for t in model["top"]]
            assert priors == sorted(priors, reverse=True) and 0 < sum(priors) <= 1.0001
            assert all(np.isfinite(model["value"]))
        else:
            assert p["model"] is None  # random has no network
    assert "X" in positions[-1]["board"]


def test_unknown_and_malformed_game_ids(api):
    assert api.get("/api/games/arena:99").status_code == 404
    assert api.get("/api/games/12").status_code == 422
    assert api.get("/api/games", params={"kind": "tournament"}).status_code == 422


def test_a_record_that_breaks_the_rules_is_shown_up_to_its_bad_move(settings, api):
    played = PlayedGame(("random", "random"), (1.0, -1.0), (), (0, 1, 1, 2), 0)
    store.save_games(settings, "hex5_2p", [played], purpose="match")
    view = api.get("/api/games/arena:1").json()
    assert len(view["positions"]) == 3 and "past move 2" in view["replay_error"]
    assert "occupied" in view["replay_error"]


def test_games_of_one_player_for_the_model_page(settings, api):
    for players in (
        ("hex5_2p_v1", "random"),
        ("random", "rollout_mcts_8"),
        ("rollout_mcts_8", "hex5_2p_v12"),
    ):
        moves, returns = _random_game("hex5_2p", seed=1)
        store.save_games(settings, "hex5_2p", [PlayedGame(players, returns, (), moves, 0)], purpose="match")
    mine = api.get("/api/games", params={"player": "hex5_2p_v1"}).json()
    assert [g["players"] for g in mine["data"]] == [["hex5_2p_v1", "random"]]  # not hex5_2p_v12
    assert api.get("/api/games", params={"player": "random"}).json()["count"] == 2
