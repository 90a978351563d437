"""The batched search against a plain reference, against itself one game at a time, and at its edges."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from app.games.registry import make_game
from app.search import BatchedMCTS, MCTSConfig, RolloutLeaves, SearchOutput, rotate_to_absolute
from tests.search.reference import reference_visits
from tests.search.toys import Decision, End, HashEvaluator, TableGame, play


def _positions(game, count: int, seed: int) -> list:
    """``count`` different non-terminal positions reached by random play (different legal masks)."""
    rng = np.random.default_rng(seed)
    states = []
    while len(states) < count:
        state = game.initial_state()
        for _ in range(int(rng.integers(0, 12))):
            moves = np.flatnonzero(game.legal_mask(state))
            state = game.apply(state, int(rng.choice(moves)))
            if game.is_terminal(state):
                break
        if not game.is_terminal(state):
            states.append(state)
    return states


@pytest.mark.parametrize("key", [("connect4", 2), ("connect4", 3), ("hex5", 2)])
def test_matches_the_one_node_at_a_time_reference(key):
    game = make_game(*key)
    evaluator = HashEvaluator(game, seed=1)
    config = MCTSConfig(num_simulations=60, c_puct=1.5, fpu=0.1)
    states = _positions(game, 4, seed=2)
    out = BatchedMCTS(game, evaluator, config).run(states, np.random.default_rng(0), add_noise=False)
    for i, state in enumerate(states):
        visits, value = reference_visits(game, state, evaluator, config)
        np.testing.assert_array_equal(out.visit_counts[i], visits)
        np.testing.assert_allclose(out.root_values[i], value, atol=1e-5)


@pytest.mark.parametrize(
    "config",
    [
        MCTSConfig(num_simulations=40),
        MCTSConfig(num_simulations=40, gumbel=True, max_considered_actions=4),
        MCTSConfig(num_simulations=40, leaves_per_step=4),
    ],
    ids=["puct", "gumbel", "virtual_loss"],
)
def test_batched_equals_one_game_at_a_time(config):
    game = make_game("connect4", 2)
    evaluator = HashEvaluator(game, seed=3)
    states = _positions(game, 6, seed=4)
    # The batch runs pipelined (network calls on a worker thread), each single game serially.
    batched = BatchedMCTS(game, evaluator, config, overlap=True).run(
        states, np.random.default_rng(5), add_noise=False
    )
    for i, state in enumerate(states):
        single = BatchedMCTS(game, evaluator, config, overlap=False).run(
            [state], np.random.default_rng(5), add_noise=False
        )
        np.testing.assert_array_equal(batched.visit_counts[i], single.visit_counts[0])
        np.testing.assert_array_equal(batched.policy[i], single.policy[0])
        np.testing.assert_array_equal(batched.root_values[i], single.root_values[0])
        if config.gumbel:
            assert batched.action[i] == single.action[0]


def test_one_network_call_per_step_for_the_whole_batch():
    game = make_game("hex5", 2)
    evaluator = HashEvaluator(game)
    states = _positions(game, 8, seed=6)
    BatchedMCTS(game, evaluator, MCTSConfig(num_simulations=10), overlap=False).run(
        states, np.random.default_rng(0), add_noise=False
    )
    # The roots in one call, then one call per simulation step holding a leaf from every tree (minus the leaves
    # that turned out terminal, which never reach the network).
    assert len(evaluator.calls) == 11
    assert evaluator.calls[0] == 8 and max(evaluator.calls[1:]) == 8
    overlapped = HashEvaluator(game)
    BatchedMCTS(game, overlapped, MCTSConfig(num_simulations=10, leaves_per_step=2), overlap=True).run(
        states, np.random.default_rng(0), add_noise=False
    )
    # Two halves of 4 trees, 2 leaves each: calls of at most 8 leaves, alternating between the halves.
    assert overlapped.calls[0] == 8 and max(overlapped.calls[1:]) <= 8 and len(overlapped.calls) >= 11


def test_overlap_by_default_only_for_evaluators_on_another_device():
    game = make_game("connect4", 2)
    config = MCTSConfig(num_simulations=4)
    assert not BatchedMCTS(game, HashEvaluator(game), config).overlap

    class OnAccelerator(HashEvaluator):
        device = SimpleNamespace(type="cuda")

    class OnCPU(HashEvaluator):
        device = SimpleNamespace(type="cpu")

    assert BatchedMCTS(game, OnAccelerator(game), config).overlap
    assert not BatchedMCTS(game, OnCPU(game), config).overlap
    assert not BatchedMCTS(game, OnAccelerator(game), config, overlap=False).overlap
    assert not BatchedMCTS(game, RolloutLeaves(game), config).overlap


@pytest.mark.parametrize("gumbel", [False, True])
def test_seeded_runs_are_reproducible_and_noise_uses_the_seed(gumbel):
    game = make_game("connect4", 2)
    evaluator = HashEvaluator(game)
    states = _positions(game, 5, seed=7)
    search = BatchedMCTS(
        game, evaluator, MCTSConfig(num_simulations=48, gumbel=gumbel, dirichlet_epsilon=0.5)
    )
    a = search.run(states, np.random.default_rng(11), add_noise=True)
    b = search.run(states, np.random.default_rng(11), add_noise=True)
    c = search.run(states, np.random.default_rng(12), add_noise=True)
    for field in ("visit_counts", "policy", "root_values"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.visit_counts, c.visit_counts)
    quiet = [search.run(states, np.random.default_rng(s), add_noise=False).visit_counts for s in (1, 2)]
    np.testing.assert_array_equal(quiet[0], quiet[1])


@pytest.mark.parametrize(
    "config",
    [
        MCTSConfig(num_simulations=30),
        MCTSConfig(num_simulations=1),
        MCTSConfig(num_simulations=30, leaves_per_step=3),
        MCTSConfig(num_simulations=30, gumbel=True),
        MCTSConfig(num_simulations=30, gumbel=True, leaves_per_step=3, max_considered_actions=3),
        MCTSConfig(num_simulations=30, selection="ucb1"),
    ],
    ids=["puct", "one_simulation", "virtual_loss", "gumbel", "gumbel_virtual_loss", "ucb1"],
)
def test_outputs_respect_each_roots_own_legal_moves(config):
    game = make_game("connect4", 3)
    # Column 0 filled in the second position only: the batch mixes masks (and players to move).
    full_column = play(game, [0, 0, 0, 0, 0, 0, 0])
    states = [game.initial_state(), full_column, play(game, [3])]
    out = BatchedMCTS(game, HashEvaluator(game), config).run(states, np.random.default_rng(0), add_noise=True)
    assert isinstance(out, SearchOutput)
    assert out.visit_counts.shape == out.policy.shape == (3, game.action_size)
    assert out.root_values.shape == (3, 3)
    for i, state in enumerate(states):
        illegal = ~game.legal_mask(state)
        assert not out.visit_counts[i, illegal].any() and not out.policy[i, illegal].any()
    np.testing.assert_allclose(out.visit_counts.sum(axis=1), config.num_simulations)
    np.testing.assert_allclose(out.policy.sum(axis=1), 1.0, rtol=1e-6)
    assert (out.action is not None) == config.gumbel
    if config.gumbel:
        assert all(game.legal_mask(s)[a] for s, a in zip(states, out.action, strict=True))


def test_one_legal_move_gets_every_visit():
    game = TableGame(
        num_players=2,
        action_size=3,
        table={(): Decision(0, (0.0, 1.0, 0.0), (0.0, 0.0)), (1,): End((0.0, 0.0))},
    )
    for config in (MCTSConfig(num_simulations=5), MCTSConfig(num_simulations=5, gumbel=True)):
        out = BatchedMCTS(game, game.evaluator, config).run([()], np.random.default_rng(0), add_noise=True)
        np.testing.assert_array_equal(out.visit_counts, [[0, 5, 0]])
        np.testing.assert_array_equal(out.policy, [[0, 1, 0]])


def test_terminal_and_empty_roots_are_rejected_clearly():
    game = make_game("connect4", 2)
    won = play(game, [0, 1, 0, 1, 0, 1, 0])
    search = BatchedMCTS(game, HashEvaluator(game), MCTSConfig(num_simulations=4))
    with pytest.raises(ValueError, match=r"states\[1\] is terminal"):
        search.run([game.initial_state(), won], np.random.default_rng(0), add_noise=False)
    with pytest.raises(ValueError, match="at least one state"):
        search.run([], np.random.default_rng(0), add_noise=False)
    with pytest.raises(TypeError, match="numpy Generator"):
        search.run([game.initial_state()], 0, add_noise=False)
    with pytest.raises(TypeError, match="MCTSConfig"):
        BatchedMCTS(game, HashEvaluator(game), {"num_simulations": 4})


def test_a_wrongly_shaped_evaluator_answer_is_named():
    game = make_game("connect4", 2)

    def broken(planes, legal):
        return np.ones((len(planes), 3), np.float32), np.zeros((len(planes), 2), np.float32)

    with pytest.raises(ValueError, match=r"expected \(1, 7\)"):
        BatchedMCTS(game, broken, MCTSConfig(num_simulations=2)).run(
            [game.initial_state()], np.random.default_rng(0), add_noise=False
        )

    def diverged(planes, legal):
        return np.full((len(planes), 7), 1 / 7, np.float32), np.full((len(planes), 2), np.nan, np.float32)

    with pytest.raises(ValueError, match="NaN or infinite"):
        BatchedMCTS(game, diverged, MCTSConfig(num_simulations=2)).run(
            [game.initial_state()], np.random.default_rng(0), add_noise=False
        )


def test_dirichlet_noise_moves_visits_off_a_one_sided_prior():
    # The fake prior puts everything on a0 and every value is zero: without noise a1..a3 are never tried.
    table = {(): Decision(0, (0.97, 0.01, 0.01, 0.01), (0.0, 0.0))}
    table |= {(a,): Decision(1, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0)) for a in range(4)}
    table |= {(a, 0): End((0.0, 0.0)) for a in range(4)}
    game = TableGame(num_players=2, action_size=4, table=table)
    config = MCTSConfig(num_simulations=40, dirichlet_alpha=0.3, dirichlet_epsilon=0.5)
    search = BatchedMCTS(game, game.evaluator, config)
    quiet = search.run([()] * 8, np.random.default_rng(0), add_noise=False)
    noisy = search.run([()] * 8, np.random.default_rng(0), add_noise=True)
    assert quiet.visit_counts[:, 1:].sum() < noisy.visit_counts[:, 1:].sum()
    assert len({tuple(row) for row in noisy.visit_counts}) > 1  # each root draws its own noise


def test_rotate_to_absolute():
    values = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    # Row j has player j to move: its entry 0 belongs to player j.
    expected = [[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]]
    np.testing.assert_array_equal(rotate_to_absolute(values, np.array([0, 1, 2])), expected)


def test_rollout_leaves_value_positions_by_their_playouts():
    game = make_game("connect4", 2)
    # Player 0 to move with three in a row on the bottom: UCT with rollouts finds column 3 quickly.
    state = play(game, [0, 0, 1, 1, 2, 2])
    config = MCTSConfig(num_simulations=300, selection="ucb1")
    out = BatchedMCTS(game, RolloutLeaves(game), config).run(
        [state], np.random.default_rng(0), add_noise=False
    )
    assert int(np.argmax(out.visit_counts[0])) == 3
    assert out.root_values[0, 0] > 0.5


def test_rollouts_work_through_the_protocol_alone():
    # TableGame has no random_playout: the rollout falls back to playing random moves through the protocol.
    game = TableGame(
        num_players=2,
        action_size=2,
        table={
            (): Decision(0, (0.5, 0.5), (0.0, 0.0)),
            (0,): Decision(1, (1.0, 0.0), (0.0, 0.0)),
            (1,): End((-1.0, 1.0)),
            (0, 0): End((1.0, -1.0)),
        },
    )
    config = MCTSConfig(num_simulations=20, selection="ucb1")
    out = BatchedMCTS(game, RolloutLeaves(game), config).run([()], np.random.default_rng(0), add_noise=False)
    assert out.visit_counts[0, 0] > out.visit_counts[0, 1]
    # Every playout ends +1 (through a0) or -1 (a1) for player 0; the root's own playout is one of the two.
    root_playout = 21 * out.root_values[0, 0] - (out.visit_counts[0, 0] - out.visit_counts[0, 1])
    assert min(abs(root_playout - 1), abs(root_playout + 1)) < 1e-4
