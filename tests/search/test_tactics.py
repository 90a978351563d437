"""Search on real games finds what an exhaustive solver says is right.

Evaluators here know nothing (uniform priors, zero values, as generation 0 plays), so whatever the search finds
comes from the tree and the games' terminal returns. Each position's answer is checked first with the exhaustive
solver in ``toys.winning_moves``, so a test cannot pass on a position that is not what its name says.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.games.registry import make_game
from app.nn import uniform_evaluator
from app.search import BatchedMCTS, MCTSConfig
from tests.search.toys import play, winning_moves

# name: (board type, players, moves to the position, forced-win depth in the mover's moves, solver horizon)
# The moves counted as right are those the solver proves win within the horizon (in the mover's moves): for
# hex5_win_in_2 the horizon covers every remaining move of the mover, so its set is complete.
POSITIONS = {
    # X on the bottom of columns 0-2 (O on top of them): X wins at 3.
    "connect4_win_in_1": ("connect4", 2, [0, 0, 1, 1, 2, 2], 1, 1),
    # X on the bottom of 2, 3: X at 1 or 4 makes an open three with both ends playable.
    "connect4_win_in_2": ("connect4", 2, [2, 2, 3, 3], 2, 2),
    # X (top-bottom) holds column 2 down to row 3; (4,1) or (4,2) joins the bottom edge.
    "hex5_win_in_1": ("hex5", 2, [2, 0, 7, 5, 12, 10, 17, 15], 1, 1),
    # 7 empty cells, X to move: only cell 12 wins (in two moves); every other move loses against best play.
    "hex5_win_in_2": ("hex5", 2, [17, 9, 24, 15, 6, 14, 10, 5, 13, 16, 0, 18, 7, 19, 21, 8, 20, 1], 2, 4),
    # Three players: player 1 (to move after 10 drops) has columns 0-2 on the bottom and wins at 3.
    "connect4_3p_win_in_1": ("connect4", 3, [8, 0, 7, 6, 1, 5, 8, 2, 7, 6], 1, 1),
}


def _position(name: str):
    board, players, moves, depth, horizon = POSITIONS[name]
    game = make_game(board, players)
    state = play(game, moves)
    assert winning_moves(game, state, depth), f"{name} is not a forced win in {depth}"
    if depth > 1:
        assert not winning_moves(game, state, depth - 1), f"{name} is already a win in {depth - 1}"
    wins = winning_moves(game, state, horizon)
    legal = int(game.legal_mask(state).sum())
    assert len(wins) <= legal // 2, (
        f"{name}: {len(wins)} of {legal} moves win, so a guess would often be right"
    )
    return game, state, wins


def _search(game, config: MCTSConfig, states, seed: int = 0):
    search = BatchedMCTS(game, uniform_evaluator(game.action_size, game.num_players), config)
    return search.run(states, np.random.default_rng(seed), add_noise=False)


@pytest.mark.parametrize(
    ("name", "simulations"),
    [
        ("connect4_win_in_1", 100),
        ("hex5_win_in_1", 100),
        ("connect4_3p_win_in_1", 100),
        ("connect4_win_in_2", 1500),
        ("hex5_win_in_2", 200),
    ],
)
def test_puct_finds_the_forced_win(name, simulations):
    game, state, wins = _position(name)
    out = _search(game, MCTSConfig(num_simulations=simulations), [state])
    best = int(np.argmax(out.visit_counts[0]))
    assert best in wins, (name, out.visit_counts[0], wins)
    mover = game.current_player(state)
    assert out.root_values[0, mover] > 0.3


@pytest.mark.parametrize(
    ("name", "simulations"),
    [
        ("connect4_win_in_1", 32),
        ("hex5_win_in_1", 64),
        ("connect4_3p_win_in_1", 32),
        ("connect4_win_in_2", 400),
        ("hex5_win_in_2", 200),
    ],
)
def test_gumbel_picks_the_forced_win(name, simulations):
    game, state, wins = _position(name)
    out = _search(game, MCTSConfig(num_simulations=simulations, gumbel=True), [state])
    assert int(out.action[0]) in wins, (name, out.visit_counts[0], out.policy[0], wins)
    assert out.policy[0, sorted(wins)].sum() > 0.5


def test_blocks_an_immediate_loss():
    game = make_game("connect4", 2)
    # O has the bottom of columns 0-2; X (to move) has 6, 6, 5 and no threat of its own: only 3 saves X.
    state = play(game, [6, 0, 6, 1, 5, 2])
    saving = [a for a in range(7) if not winning_moves(game, game.apply(state, a), 1)]
    assert saving == [3]
    # Gumbel needs the budget to refute each of the 7 moves in its first phase (O's win is its 4th try):
    # 200 simulations give every move 9 visits before the halving starts.
    for config in (MCTSConfig(num_simulations=200), MCTSConfig(num_simulations=200, gumbel=True)):
        out = _search(game, config, [state])
        chosen = int(out.action[0]) if config.gumbel else int(np.argmax(out.visit_counts[0]))
        assert chosen == 3, (config.gumbel, out.visit_counts[0])


def test_visits_concentrate_on_the_winning_move_as_simulations_grow():
    game, state, wins = _position("connect4_win_in_1")
    (win,) = wins
    shares = []
    for simulations in (16, 64, 256, 1024):
        out = _search(game, MCTSConfig(num_simulations=simulations), [state])
        shares.append(out.visit_counts[0, win] / simulations)
    assert shares == sorted(shares), shares
    assert shares[-1] > 0.9


def test_batch_of_tactics_with_virtual_loss():
    # Several leaves per tree per step (virtual loss) on a mixed batch must still find every win.
    names = ["connect4_win_in_1", "connect4_win_in_2"]
    positions = [_position(n) for n in names]
    game = positions[0][0]
    out = _search(game, MCTSConfig(num_simulations=1500, leaves_per_step=4), [p[1] for p in positions])
    for i, (_, _, wins) in enumerate(positions):
        assert int(np.argmax(out.visit_counts[i])) in wins
