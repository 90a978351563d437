import json
from collections import Counter

import pytest

from app.core.errors import InvalidConfig
from app.evaluation import store
from app.evaluation.tournament import run_tournament
from tests.cli.zl import run_cli

PLAYERS = ["random", "rollout_mcts_8", "uniform_mcts_4"]


def test_every_pair_plays_with_seats_rotated_and_openings_paired(settings):
    result = run_tournament(
        "hex5_2p", PLAYERS, games_per_lineup=4, num_simulations=4, seed=1, settings=settings
    )
    assert result.games_played == 12 and result.players == tuple(PLAYERS)
    rows = store.load_games(settings, "hex5_2p")
    assert len(rows) == 12 and {r.purpose for r in rows} == {"match"}
    pairs = Counter(frozenset(r.players) for r in rows)
    assert sorted(pairs.values()) == [4, 4, 4]
    for group in {r.opening_group for r in rows}:
        games = [r for r in rows if r.opening_group == group]
        assert len(games) == 2 and games[0].opening == games[1].opening
        assert games[0].players == games[1].players[::-1]
    for i in range(3):
        for j in range(3):
            if i != j:
                assert result.games[i][j] == 4
                assert result.points[i][j] + result.points[j][i] == 4.0
    assert result.games[0][0] == 0 and result.score(0, 0) is None
    rated = {r.name for r in result.ratings.ratings}
    assert rated == set(PLAYERS) and result.ratings.anchor == "random"


def test_three_player_tables_seat_every_combination(settings):
    names = ["random", "rollout_mcts_2", "rollout_mcts_4", "uniform_mcts_2"]
    result = run_tournament("connect4_3p", names, games_per_lineup=3, num_simulations=2, settings=settings)
    assert result.games_played == 4 * 3  # C(4, 3) tables of one opening in three rotations
    assert result.games[0][1] == 6  # random and rollout_mcts_2 share two of the four tables


@pytest.mark.parametrize(
    ("players", "games", "message"),
    [
        (["random", "random"], 4, "named twice"),
        (["random"], 4, "at least 2 players"),
        (["random", "rollout_mcts_2"], 3, "multiple of 2"),
    ],
)
def test_bad_tournaments_are_refused(settings, players, games, message):
    with pytest.raises(InvalidConfig, match=message):
        run_tournament("hex5_2p", players, games_per_lineup=games, settings=settings)


def test_cli_prints_the_ratings_and_the_score_matrix(capsys, monkeypatch):
    r = run_cli(capsys, monkeypatch, "tournament", *PLAYERS, "-c", "hex5_2p", "-n", "2", "-s", "2")
    assert r.code == 0, r.err
    assert "score of row vs column (6 games)" in r.out and "3 uniform_mcts_4" in r.out
    assert "random (anchor)" in r.out
    j = run_cli(
        capsys, monkeypatch, "tournament", "random", "rollout_mcts_2", "-c", "hex5_2p", "-n", "2", "--json"
    )
    data = json.loads(j.out)
    assert data["games_played"] == 2 and data["games"][0][1] == 2
    assert sum(data["points"][0]) + sum(data["points"][1]) == 2.0


def test_cli_errors_name_the_flags(capsys, monkeypatch):
    r = run_cli(capsys, monkeypatch, "tournament", "random", "rollout_mcts_2", "-c", "hex5_2p", "-n", "3")
    assert r.code == 2 and "-n must be a positive multiple of 2" in r.err
    r = run_cli(capsys, monkeypatch, "tournament", "random", "rollout_mcts_2")
    assert r.code == 2 and "give --config" in r.err
    r = run_cli(capsys, monkeypatch, "tournament", "hex5_2p_v1", "random", "-c", "hex6_2p")
    assert r.code == 2 and "cannot play --config hex6_2p" in r.err
