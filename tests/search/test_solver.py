"""MCTS-solver: immediate wins, proven values backed up through the tree, and the moves that come out of it.

Positions are checked with the exhaustive solver in ``toys.winning_moves`` first; evaluators know nothing
(uniform priors, zero values), so what the search finds comes from the tree and the games' results.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.games.registry import make_game
from app.nn import uniform_evaluator
from app.search import BatchedMCTS, MCTSConfig, NetworkAgent
from tests.search.test_tactics import _position
from tests.search.toys import Decision, End, TableGame, winning_moves


class _Counting:
    """The uniform evaluator, counting the positions it is asked about."""

    def __init__(self, game) -> None:
        self._inner = uniform_evaluator(game.action_size, game.num_players)
        self.positions = 0

    def __call__(self, planes, legal):
        self.positions += len(planes)
        return self._inner(planes, legal)


def _run(game, config: MCTSConfig, states, evaluate=None):
    evaluate = evaluate or uniform_evaluator(game.action_size, game.num_players)
    return BatchedMCTS(game, evaluate, config).run(states, np.random.default_rng(0), add_noise=False)


@pytest.mark.parametrize("name", ["connect4_win_in_1", "hex5_win_in_1"])
@pytest.mark.parametrize("gumbel", [False, True])
def test_the_solver_takes_a_mate_in_one_on_any_budget(name, gumbel):
    game, state, wins = _position(name)
    # Two simulations cannot try every move (a uniform prior picks the first ones), yet the root's check of
    # its immediate results finds the win.
    out = _run(game, MCTSConfig(num_simulations=2, gumbel=gumbel, solver=True), [state])
    assert int(out.proven_action[0]) in wins
    if gumbel:
        assert int(out.action[0]) in wins
    agent = NetworkAgent(None, MCTSConfig(num_simulations=2, gumbel=gumbel, solver=True), "solver")
    assert agent.select_actions(game, [state], np.random.default_rng(0))[0] in wins


def _random_positions(game, count: int, seed: int):
    """Positions met in random games, as a batch: every position of ``count`` games that is not over."""
    rng = np.random.default_rng(seed)
    states = []
    for _ in range(count):
        state = game.initial_state()
        while not game.is_terminal(state):
            states.append(state)
            state = game.apply(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
    return states


@pytest.mark.parametrize(("board", "gumbel"), [("hex5", False), ("connect4", False), ("connect4", True)])
def test_never_a_losing_move_when_a_win_is_there(board, gumbel):
    game = make_game(board, 2)
    states = _random_positions(game, 6, seed=1)
    wins = [winning_moves(game, s, 1) for s in states]
    assert sum(bool(w) for w in wins) >= 5, "the sample needs positions with a win in one"
    agent = NetworkAgent(None, MCTSConfig(num_simulations=4, gumbel=gumbel, solver=True), "solver")
    chosen = agent.select_actions(game, states, np.random.default_rng(0))
    missed = [(i, a, w) for i, (a, w) in enumerate(zip(chosen, wins, strict=True)) if w and a not in w]
    assert not missed
    # A sampling agent (temperature 1) still plays the proven win.
    sampler = NetworkAgent(None, MCTSConfig(num_simulations=4, solver=True), "solver_t1", temperature=1.0)
    chosen = sampler.select_actions(game, states, np.random.default_rng(1))
    assert all(a in w for a, w in zip(chosen, wins, strict=True) if w)


def test_proven_values_spare_the_evaluator_and_prove_the_deeper_win():
    game, state, wins = _position("hex5_win_in_2")  # only cell 12 wins, two of the mover's moves deep
    counts = {}
    for solver in (False, True):
        evaluate = _Counting(game)
        out = _run(game, MCTSConfig(num_simulations=400, solver=solver), [state], evaluate)
        counts[solver] = evaluate.positions
        assert int(np.argmax(out.visit_counts[0])) in wins
    assert out.proven_action.tolist() == [12]
    # Revisiting a solved node backs up its proven value without an evaluation.
    assert counts[True] < counts[False], counts


# p0 to move. a0 leads to a position where each of p1's two replies loses (a proven win, found only once both
# replies are tried); a1 leads to a position where both replies draw. The prior prefers a1.
PROOF_TABLE = {
    (): Decision(0, (0.2, 0.8), (0.0, 0.0)),
    (0,): Decision(1, (0.5, 0.5), (0.0, 0.0)),
    (0, 0): End((1.0, -1.0)),
    (0, 1): End((1.0, -1.0)),
    (1,): Decision(1, (0.5, 0.5), (0.0, 0.0)),
    (1, 0): End((0.0, 0.0)),
    (1, 1): End((0.0, 0.0)),
}


def test_a_proven_root_sends_every_later_simulation_to_the_win():
    game = TableGame(num_players=2, action_size=2, table=PROOF_TABLE)
    plain = [_run(game, MCTSConfig(num_simulations=n), [()], game.evaluator) for n in (60, 240)]
    solved = [_run(game, MCTSConfig(num_simulations=n, solver=True), [()], game.evaluator) for n in (60, 240)]
    assert plain[0].proven_action is None
    assert [s.proven_action.tolist() for s in solved] == [[0], [0]]
    # Once a0 is proven (both of p1's replies lose), the root takes it every time: a1's visits stop at what
    # they were when the proof came, while plain PUCT keeps exploring a1.
    assert solved[0].visit_counts[0, 1] == solved[1].visit_counts[0, 1] < 10, [s.visit_counts for s in solved]
    assert plain[1].visit_counts[0, 1] > plain[0].visit_counts[0, 1]
    assert solved[1].visit_counts[0, 0] > plain[1].visit_counts[0, 0]
    assert solved[1].root_values[0, 0] > 0.95 and solved[1].root_values[0, 1] < -0.95


def test_a_position_proven_drawn_plays_the_draw_not_the_loss():
    table = {
        (): Decision(0, (0.9, 0.1), (0.0, 0.0)),
        (0,): End((-1.0, 1.0)),
        (1,): End((0.0, 0.0)),
    }
    game = TableGame(num_players=2, action_size=2, table=table)
    out = _run(game, MCTSConfig(num_simulations=8, solver=True), [()], game.evaluator)
    assert out.proven_action.tolist() == [1]
    # PUCT skips a child proven lost at an undecided node: a0 gets its one visit, the rest go to a1.
    assert out.visit_counts[0].tolist() == [1, 7]


def test_the_solver_is_refused_for_more_than_two_players():
    game = make_game("connect4", 3)
    with pytest.raises(InvalidConfig, match="two-player"):
        BatchedMCTS(game, uniform_evaluator(game.action_size, 3), MCTSConfig(solver=True))
