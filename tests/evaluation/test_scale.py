"""A scale that holds still: anchors calibrated among themselves, pinned in the fit; the drift check reports
what a free fit would make of them."""

import json

import pytest

from app.evaluation import config_ratings
from app.evaluation import store as eval_store
from app.evaluation.arena import PlayedGame
from app.evaluation.ratings import GameResult, fit_ratings
from app.evaluation.scale import calibrate_anchors, drift_check, latest_calibration, scale_fit
from app.evaluation.tournament import run_tournament
from app.web.dashboard.loop import rating_table
from tests.cli.zl import run_cli

KEY = "hex5_2p"
WEAK = "rollout_mcts_4"


def _games(a: str, b: str, a_wins: int, b_wins: int) -> list[GameResult]:
    return [GameResult((a, b), (1.0, -1.0))] * a_wins + [GameResult((b, a), (1.0, -1.0))] * b_wins


def test_pinned_players_keep_their_ratings_and_the_others_are_fitted_around_them():
    games = _games("rollout_mcts_50", "random", 30, 10) + _games("model", "rollout_mcts_50", 20, 20)
    free = fit_ratings(games)
    pinned = fit_ratings(games, pinned={"random": 0.0, "rollout_mcts_50": 400.0})
    assert pinned.get("rollout_mcts_50").elo == pytest.approx(400.0)
    assert pinned.get("rollout_mcts_50").ci_half_width == 0.0 and pinned.pinned == {"rollout_mcts_50": 400.0}
    # model scored even against the anchor: level with wherever the anchor is held.
    assert pinned.get("model").elo == pytest.approx(400.0, abs=1.0)
    assert free.get("rollout_mcts_50").elo == pytest.approx(free.get("model").elo, abs=1.0)
    assert free.get("rollout_mcts_50").elo < 300  # 30-10 is about +190 Elo, not 400
    with pytest.raises(Exception, match="finite"):
        fit_ratings(games, pinned={"rollout_mcts_50": float("nan")})


def _store(settings, a: str, b: str, a_wins: int, b_wins: int) -> None:
    played = [PlayedGame((a, b), (1.0, -1.0), (), (0,), i) for i in range(a_wins)]
    played += [PlayedGame((b, a), (1.0, -1.0), (), (0,), a_wins + i) for i in range(b_wins)]
    eval_store.save_games(settings, KEY, played, purpose="match")


def test_calibrated_anchors_are_pinned_while_the_drift_check_reports_the_free_fit(
    settings, capsys, monkeypatch
):
    assert latest_calibration(settings, KEY) is None and drift_check(settings, KEY) == (None, [])
    first = calibrate_anchors(KEY, ["random", WEAK], games_per_pair=2, settings=settings)
    assert (first.version, first.games, set(first.ratings)) == (1, 2, {"random", WEAK})
    calibrated = first.ratings[WEAK]
    # Later games say the weak anchor loses badly to random: a free fit follows them, the pinned scale does not.
    _store(settings, "random", WEAK, 20, 1)
    _store(settings, "model_x", WEAK, 5, 5)
    table = config_ratings(KEY, settings=settings)
    assert table.get(WEAK).elo == pytest.approx(calibrated) and table.pinned == {
        WEAK: pytest.approx(calibrated)
    }
    assert table.get("model_x").elo == pytest.approx(calibrated, abs=30)  # even against the pinned anchor
    calibration, drift = drift_check(settings, KEY)
    by_name = {d.name: d for d in drift}
    free = fit_ratings(eval_store.game_results(settings, KEY)).get(WEAK).elo
    assert calibration.version == 1 and by_name[WEAK].free == pytest.approx(free)
    assert by_name[WEAK].pinned == pytest.approx(calibrated) and by_name[WEAK].drift < -100
    assert by_name["random"].pinned == 0.0 and by_name["random"].drift == 0.0

    assert rating_table(settings, KEY).get(WEAK).elo == pytest.approx(
        calibrated
    )  # the dashboard's, pinned too

    r = run_cli(capsys, monkeypatch, "ratings", KEY, "--json")
    data = json.loads(r.out)
    assert data["calibration"] == 1
    assert {d["name"]: d["free"] for d in data["drift"]}[WEAK] == pytest.approx(free)
    r = run_cli(capsys, monkeypatch, "ratings", KEY)
    assert r.code == 0 and "drift check" in r.out and "calibration v1" in r.out

    # Recalibrating stores a new version, fitted over the games among anchors only.
    second = calibrate_anchors(KEY, ["random", WEAK], games_per_pair=2, seed=1, settings=settings)
    assert second.version == 2 and second.games == 2 + 21 + 2
    assert scale_fit(settings, KEY).get(WEAK).elo == pytest.approx(second.ratings[WEAK])
    # A new calibration is a new scale: the dashboard refits although no game was added.
    assert rating_table(settings, KEY).get(WEAK).elo == pytest.approx(second.ratings[WEAK])
    matched = run_tournament(KEY, ["random", WEAK], games_per_lineup=2, num_simulations=2, settings=settings)
    assert matched.ratings.get(WEAK).elo == pytest.approx(second.ratings[WEAK])  # a tournament's, too


def test_calibrate_cli_and_its_errors(settings, capsys, monkeypatch):
    r = run_cli(capsys, monkeypatch, "calibrate", KEY, "-a", "random", "-a", WEAK, "-n", "2", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["version"] == 1
    r = run_cli(capsys, monkeypatch, "calibrate", KEY, "-a", "random", "-a", "hex5_2p_v1", "-n", "2")
    assert r.code == 2 and "not an anchor" in (r.out + r.err)
