"""Connect family rules: conformance, scripted wins in every direction, draws, 3-4 player results, playouts."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.games import ConnectGame, make_game, play_randomly
from app.games.conformance import check_game
from tests.games.exact import exact_random_returns


def play(game: ConnectGame, actions: list[int]):
    state = game.initial_state()
    for a in actions:
        assert not game.is_terminal(state), f"game ended before {a}"
        state = game.apply(state, a)
    return state


def at(game: ConnectGame, state, row_from_bottom: int, col: int) -> int:
    return int(state.board[(game.height - 1 - row_from_bottom) * game.width + col])


@pytest.mark.parametrize(("players", "games"), [(2, 40), (3, 20), (4, 12)])
def test_conformance(players: int, games: int) -> None:
    report = check_game(make_game("connect4", players), n_games=games, seed=players)
    assert report.games == games
    winners = {r.index(1.0) for r in report.outcomes if 1.0 in r}
    assert winners == set(range(players)), report.outcomes


@pytest.mark.parametrize(("players", "width", "height"), [(2, 7, 6), (3, 9, 7), (4, 11, 8)])
def test_connect4_sizes(players: int, width: int, height: int) -> None:
    g = make_game("connect4", players)
    assert (g.width, g.height, g.k, g.action_size) == (width, height, 4, width)
    assert g.board_shape == (height, width) and g.num_planes == players + 1
    assert g.config_key == f"connect4_{players}p"


def test_vertical_win_after_each_move() -> None:
    g = make_game("connect4", 2)
    script = [3, 4, 3, 4, 3, 4, 3]
    state = g.initial_state()
    for i, a in enumerate(script):
        assert g.current_player(state) == i % 2
        state = g.apply(state, a)
        assert at(g, state, script[: i + 1].count(a) - 1, a) == i % 2
        assert g.is_terminal(state) == (i == len(script) - 1)
    assert state.winner == 0 and not g.legal_mask(state).any()
    np.testing.assert_array_equal(g.returns(state), [1.0, -1.0])


def test_horizontal_win_for_second_player() -> None:
    g = make_game("connect4", 2)
    state = play(g, [0, 1, 0, 2, 6, 3, 0, 4])
    assert state.winner == 1
    assert [at(g, state, 0, c) for c in range(1, 5)] == [1, 1, 1, 1]
    np.testing.assert_array_equal(g.returns(state), [-1.0, 1.0])


def test_rising_diagonal() -> None:
    g = make_game("connect4", 2)
    # X: (0,0) (1,1) (2,2) (3,3) as (row from bottom, col); O fills underneath.
    state = play(g, [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3])
    assert state.winner == 0
    assert [at(g, state, i, i) for i in range(4)] == [0, 0, 0, 0]


def test_falling_diagonal() -> None:
    g = make_game("connect4", 2)
    # Mirror image of the rising diagonal: X on (0,6) (1,5) (2,4) (3,3).
    state = play(g, [6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3])
    assert state.winner == 0


def test_three_in_a_row_is_not_enough() -> None:
    g = make_game("connect4", 2)
    state = play(g, [0, 6, 1, 6, 2, 5])
    assert not g.is_terminal(state)
    assert g.legal_mask(state).all()


def test_full_column_is_illegal_and_says_which_are_open() -> None:
    g = ConnectGame(width=3, height=2, k=3)
    state = play(g, [1, 1])
    assert g.legal_mask(state).tolist() == [True, False, True]
    with pytest.raises(ValueError, match=r"column 1 is full; open columns are \[0, 2\]"):
        g.apply(state, 1)
    with pytest.raises(ValueError, match="0..2"):
        g.apply(state, 3)
    with pytest.raises(ValueError, match="integer"):
        g.apply(state, "0")


def test_full_board_is_a_draw() -> None:
    g = ConnectGame(width=3, height=2, k=3)
    # Bottom row X O X, top row O X O: no three in a row anywhere.
    state = play(g, [0, 1, 2, 0, 1, 2])
    assert g.is_terminal(state) and state.winner == -1
    assert not g.legal_mask(state).any()
    np.testing.assert_array_equal(g.returns(state), [0.0, 0.0])
    with pytest.raises(ValueError, match="over"):
        g.apply(state, 0)
    assert "draw" in g.render(state)


def test_three_players_winner_takes_the_top_rank() -> None:
    g = make_game("connect4", 3)
    # Player 1 stacks column 4 while 0 and 2 play elsewhere.
    state = play(g, [0, 4, 8, 1, 4, 7, 0, 4, 8, 1, 4])
    assert state.winner == 1
    r = g.returns(state)
    np.testing.assert_allclose(r, [-0.5, 1.0, -0.5])
    assert r.dtype == np.float32 and abs(r.sum()) < 1e-6


def test_four_players_and_turn_order() -> None:
    g = make_game("connect4", 4)
    state = g.initial_state()
    order = []
    for a in [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0]:
        order.append(g.current_player(state))
        state = g.apply(state, a)
    assert order == [0, 1, 2, 3] * 3 + [0]
    assert state.winner == 0
    np.testing.assert_allclose(g.returns(state), [1.0, -1 / 3, -1 / 3, -1 / 3], rtol=1e-6)


def test_encode_orders_planes_from_the_mover() -> None:
    g = make_game("connect4", 3)
    state = play(g, [0, 1, 2])  # player 0 in col 0, 1 in col 1, 2 in col 2; player 0 to move
    state = g.apply(state, 5)  # player 0 in col 5; player 1 to move
    p = g.encode(state)
    assert p.shape == (4, 7, 9) and p.dtype == np.float32
    bottom = g.height - 1
    assert p[0, bottom, 1] == 1 and p[0].sum() == 1  # mover = player 1
    assert p[1, bottom, 2] == 1 and p[1].sum() == 1  # then player 2
    assert p[2, bottom, 0] == 1 and p[2, bottom, 5] == 1 and p[2].sum() == 2  # then player 0
    assert (p[3] == 1).all()


def test_apply_does_not_mutate() -> None:
    g = make_game("connect4", 2)
    s0 = g.initial_state()
    s1 = g.apply(s0, 3)
    assert (s0.board == -1).all() and (s0.heights == 0).all() and s1.heights[3] == 1
    with pytest.raises(ValueError):
        s1.heights[0] = 3


def test_render() -> None:
    g = make_game("connect4", 2)
    text = g.render(play(g, [3]))
    lines = text.splitlines()
    assert "O (player 1) to move" in lines[0]
    assert lines[-2] == ". . . X . . ."
    assert lines[-1] == "1 2 3 4 5 6 7"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width": 7, "height": 6, "k": 4, "num_players": 5},
        {"width": 0, "height": 6, "k": 4},
        {"width": 7, "height": 6, "k": 8},
        {"width": 7, "height": 6, "k": 1},
    ],
)
def test_bad_parameters(kwargs) -> None:
    with pytest.raises(InvalidConfig):
        ConnectGame(**kwargs)


@pytest.mark.parametrize(("players", "width", "height", "k"), [(2, 4, 3, 3), (3, 3, 3, 3), (4, 3, 3, 2)])
def test_fast_playouts_sample_exact_random_play(players: int, width: int, height: int, k: int) -> None:
    g = ConnectGame(width=width, height=height, k=k, num_players=players)
    start = play(g, [1])
    exact = exact_random_returns(g, start)
    fast = g.random_playouts(start, 40_000, np.random.default_rng(0)).mean(axis=0)
    # Standard error of each sampled component is < 1/sqrt(40000) = 0.005.
    np.testing.assert_allclose(fast, exact, atol=0.02)


def test_fast_playouts_agree_with_protocol_playouts_on_connect4() -> None:
    g = make_game("connect4", 2)
    start = play(g, [3, 3])
    fast = g.random_playouts(start, 20_000, np.random.default_rng(0)).mean(axis=0)
    rng = np.random.default_rng(1)
    slow = np.mean([play_randomly(g, start, rng) for _ in range(500)], axis=0)
    # Standard error of the slow mean is < 1/sqrt(500) ≈ 0.045.
    np.testing.assert_allclose(fast, slow, atol=0.18)


def test_playout_draw_rate_on_a_tiny_board() -> None:
    # 3x2, k=3, X to move on an empty board: random play is drawn (all zeros) often enough to see it.
    g = ConnectGame(width=3, height=2, k=3)
    r = g.random_playouts(g.initial_state(), 2000, np.random.default_rng(0))
    draws = (r == 0).all(axis=1).mean()
    assert 0.05 < draws < 0.95
    np.testing.assert_allclose(r.sum(axis=1), 0.0)
