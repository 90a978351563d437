"""Hex rules: conformance, scripted games (board, mask and result after each move), swap rule, playouts."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.games import HexGame, play_randomly
from app.games.conformance import check_game
from tests.games.exact import exact_random_returns


def cell(game: HexGame, r: int, c: int) -> int:
    return r * game.size + c


def play(game: HexGame, actions: list[int]):
    state = game.initial_state()
    for a in actions:
        state = game.apply(state, a)
    return state


@pytest.mark.parametrize(
    ("size", "swap", "games"), [(5, False, 40), (8, False, 15), (5, True, 40), (8, True, 10)]
)
def test_conformance(size: int, swap: bool, games: int) -> None:
    report = check_game(HexGame(size, swap=swap), n_games=games, seed=size)
    assert report.games == games
    # No draws in Hex, and random play lets each side win sometimes.
    assert set(report.outcomes) == {(1.0, -1.0), (-1.0, 1.0)}


def test_shapes_and_names() -> None:
    g = HexGame(8)
    assert (g.board_type, g.config_key, g.action_size, g.num_planes, g.board_shape) == (
        "hex8",
        "hex8_2p",
        64,
        4,
        (8, 8),
    )
    s = HexGame(8, swap=True)
    assert (s.board_type, s.config_key, s.action_size, s.num_planes, s.swap_action) == (
        "hex8swap",
        "hex8swap_2p",
        65,
        5,
        64,
    )
    assert g.swap_action is None


@pytest.mark.parametrize("size", [1, 20, "8", 8.0])
def test_bad_size(size) -> None:
    with pytest.raises(InvalidConfig, match="2..19"):
        HexGame(size)


def test_top_bottom_win_for_player0_after_each_move() -> None:
    g = HexGame(5)
    # X runs down column 0, O along row 0 from column 1 (one short: row 0 has only 4 free cells).
    script = [cell(g, 0, 0), cell(g, 0, 1), cell(g, 1, 0), cell(g, 0, 2), cell(g, 2, 0), cell(g, 0, 3)]
    script += [cell(g, 3, 0), cell(g, 0, 4), cell(g, 4, 0)]
    state = g.initial_state()
    for i, a in enumerate(script):
        assert g.current_player(state) == i % 2
        assert g.legal_mask(state).sum() == 25 - i
        assert not g.is_terminal(state)
        state = g.apply(state, a)
        assert state.board[a] == i % 2
        assert not g.legal_mask(state)[a] or g.is_terminal(state)
    assert g.is_terminal(state)
    assert state.winner == 0
    assert not g.legal_mask(state).any()
    np.testing.assert_array_equal(g.returns(state), np.array([1, -1], dtype=np.float32))
    assert g.returns(state).dtype == np.float32


def test_left_right_win_for_player1_along_a_zigzag() -> None:
    g = HexGame(4)
    # O connects left-right through a path that uses the (r+1, c-1) / (r-1, c+1) diagonals.
    o_path = [cell(g, 2, 0), cell(g, 1, 1), cell(g, 1, 2), cell(g, 0, 3)]
    x_moves = [cell(g, 3, 0), cell(g, 3, 1), cell(g, 3, 2), cell(g, 3, 3)]
    state = g.initial_state()
    for i in range(4):
        state = g.apply(state, x_moves[i])
        assert not g.is_terminal(state)
        state = g.apply(state, o_path[i])
    assert g.is_terminal(state)
    assert state.winner == 1
    np.testing.assert_array_equal(g.returns(state), [-1.0, 1.0])


def test_same_cells_without_adjacency_do_not_connect() -> None:
    g = HexGame(3)
    # (0,0), (1,0) are adjacent, but (1,0)-(2,1) is not ((r+1, c+1) is not a neighbour): no top-bottom chain.
    state = play(g, [cell(g, 0, 0), cell(g, 0, 2), cell(g, 1, 0), cell(g, 1, 2), cell(g, 2, 1)])
    assert not g.is_terminal(state)
    # (1,0)-(2,0) is adjacent: now X connects.
    state = g.apply(g.apply(state, cell(g, 0, 1)), cell(g, 2, 0))
    assert state.winner == 0


def test_illegal_actions_raise_with_reason() -> None:
    g = HexGame(5)
    state = g.apply(g.initial_state(), 7)
    with pytest.raises(ValueError, match="occupied"):
        g.apply(state, 7)
    with pytest.raises(ValueError, match="0..24"):
        g.apply(state, 25)
    with pytest.raises(ValueError, match="integer"):
        g.apply(state, 1.5)
    with pytest.raises(ValueError, match="still going"):
        g.returns(state)
    won = play(g, [0, 1, 5, 2, 10, 3, 15, 4, 20])
    with pytest.raises(ValueError, match="over"):
        g.apply(won, 24)


def test_apply_leaves_input_untouched_and_arrays_read_only() -> None:
    g = HexGame(5)
    s0 = g.initial_state()
    s1 = g.apply(s0, 12)
    assert (s0.board == -1).all() and s1.board[12] == 0
    with pytest.raises(ValueError):
        s1.board[0] = 1


def test_encode_is_from_the_movers_point_of_view() -> None:
    g = HexGame(5)
    s1 = g.apply(g.initial_state(), cell(g, 1, 2))  # X on (1, 2), O to move
    p = g.encode(s1)
    assert p.shape == (4, 5, 5) and p.dtype == np.float32
    assert p[0].sum() == 0 and p[1, 1, 2] == 1 and p[1].sum() == 1  # mover (O) has nothing yet
    assert (p[2] == 1).all() and (p[3] == 1).all()  # O connects left-right
    s2 = g.apply(s1, cell(g, 3, 3))
    q = g.encode(s2)
    assert q[0, 1, 2] == 1 and q[1, 3, 3] == 1 and q[0].sum() == 1 and q[1].sum() == 1
    assert (q[3] == 0).all()  # X connects top-bottom


def test_swap_transposes_the_first_stone_and_returns_the_move() -> None:
    g = HexGame(5, swap=True)
    s0 = g.initial_state()
    assert not g.legal_mask(s0)[g.swap_action]
    with pytest.raises(ValueError, match="second player's first move"):
        g.apply(s0, g.swap_action)
    s1 = g.apply(s0, cell(g, 0, 3))
    mask = g.legal_mask(s1)
    assert mask[g.swap_action] and mask.sum() == 25  # 24 empty cells + swap
    assert (g.encode(s1)[4] == 1).all()
    s2 = g.apply(s1, g.swap_action)
    assert s2.board[cell(g, 3, 0)] == 1 and (s2.board >= 0).sum() == 1
    assert g.current_player(s2) == 0
    assert not g.legal_mask(s2)[g.swap_action] and g.legal_mask(s2).sum() == 24
    assert (g.encode(s2)[4] == 0).all()
    with pytest.raises(ValueError):
        g.apply(s2, g.swap_action)
    # A stone on the diagonal swaps onto itself, changing colour.
    s = g.apply(g.apply(s0, cell(g, 2, 2)), g.swap_action)
    assert s.board[cell(g, 2, 2)] == 1
    # Declining the swap: the second player's normal moves never offer it again.
    s = g.apply(s1, cell(g, 4, 4))
    assert not g.legal_mask(s)[g.swap_action]


def test_swapped_stone_counts_for_player1_connections() -> None:
    g = HexGame(3, swap=True)
    # X opens (0,1); swapping makes it O on (1,0), on O's left edge. O then needs (1,1) and (1,2).
    s = play(g, [cell(g, 0, 1), g.swap_action, cell(g, 0, 0), cell(g, 1, 1), cell(g, 2, 0), cell(g, 1, 2)])
    assert s.winner == 1


def test_render_shows_stones_and_status() -> None:
    g = HexGame(3)
    text = g.render(g.apply(g.initial_state(), cell(g, 1, 1)))
    assert "O (player 1) to move" in text
    lines = text.splitlines()
    assert lines[-2].split() == ["2", ".", "X", "."]
    assert g.action_to_string(cell(g, 1, 2)) == "c2"
    assert HexGame(3, swap=True).action_to_string(9) == "swap"


def _mid_game(g: HexGame, moves: int, seed: int):
    rng = np.random.default_rng(seed)
    s = g.initial_state()
    for _ in range(moves):
        s = g.apply(s, int(rng.choice(np.flatnonzero(g.legal_mask(s)))))
    return s


@pytest.mark.parametrize(("swap", "opening"), [(False, []), (False, [4]), (True, [1]), (True, [4, 9])])
def test_fast_playouts_sample_exact_random_play(swap: bool, opening: list[int]) -> None:
    # The numba fill-the-board playout must sample the same outcomes as playing uniformly random legal moves one
    # by one (with swap: the swap is one of the legal first replies).
    g = HexGame(3, swap=swap)
    start = play(g, opening)
    exact = exact_random_returns(g, start)
    fast = g.random_playouts(start, 40_000, np.random.default_rng(0)).mean(axis=0)
    # Standard error of the sampled mean is < 1/sqrt(40000) = 0.005.
    np.testing.assert_allclose(fast, exact, atol=0.02)


def test_fast_playouts_agree_with_protocol_playouts_on_hex8() -> None:
    g = HexGame(8, swap=True)
    start = play(g, [27])
    fast = g.random_playouts(start, 20_000, np.random.default_rng(0))[:, 0].mean()
    rng = np.random.default_rng(1)
    slow = np.mean([play_randomly(g, start, rng)[0] for _ in range(400)])
    # Standard error of the slow mean is < 1/sqrt(400) = 0.05.
    assert abs(fast - slow) < 0.2, (fast, slow)
    assert g.random_playout(start, np.random.default_rng(5)).shape == (2,)


def test_playouts_are_reproducible_and_vary_with_the_seed() -> None:
    g = HexGame(8)
    s = g.initial_state()
    a = g.random_playouts(s, 200, np.random.default_rng(1))
    b = g.random_playouts(s, 200, np.random.default_rng(1))
    c = g.random_playouts(s, 200, np.random.default_rng(2))
    assert a.shape == (200, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_playout_from_a_finished_game_is_its_result() -> None:
    g = HexGame(5)
    won = play(g, [0, 1, 5, 2, 10, 3, 15, 4, 20])
    np.testing.assert_array_equal(
        g.random_playouts(won, 5, np.random.default_rng(0)), np.tile([1, -1], (5, 1))
    )
    np.testing.assert_array_equal(g.random_playout(won, np.random.default_rng(0)), [1, -1])


def test_playouts_on_hand_solved_2x2_positions() -> None:
    g = HexGame(2)
    # X on (0,1) touches both bottom cells, and it is X's move: every continuation wins for X.
    r = g.random_playouts(play(g, [1, 0]), 1000, np.random.default_rng(0))
    assert (r[:, 0] == 1).all()
    # X on (0,0) touches only (1,0); taking (1,1) instead lets O join (0,1)-(1,0): X wins exactly half the time.
    r = g.random_playouts(play(g, [0, 1]), 4000, np.random.default_rng(0))
    assert abs(r[:, 0].mean()) < 0.05
