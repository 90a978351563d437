"""Searches small enough to follow by hand: every expected number below is worked out in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.search import BatchedMCTS, MCTSConfig
from app.search.gumbel import considered_visits_table
from tests.search.toys import Decision, End, TableGame

# c_puct_base this large makes c(N) = c_puct + log(1 + (1 + N) / base) equal to c_puct up to ~1e-11.
FLAT = {"c_puct": 1.0, "c_puct_base": 1e12, "fpu": 0.0}


def _run(game: TableGame, config: MCTSConfig, *, add_noise: bool = False):
    search = BatchedMCTS(game, game.evaluator, config)
    return search.run([game.initial_state()], np.random.default_rng(0), add_noise=add_noise)


def test_puct_two_terminal_children():
    # Root (player 0, value 0, priors 1/2, 1/2): action 0 wins, action 1 loses.
    # sim 1: N=1, both Q = fpu value 0, U = 0.5 each -> tie, first index: a0 (+1). Root N=2, W=1.
    # sim 2: Q_fpu = 1/2. a0: 1 + sqrt(2)*0.5/2 = 1.354; a1: 0.5 + sqrt(2)*0.5 = 1.207 -> a0. N=3, W=2.
    # sim 3: Q_fpu = 2/3. a0: 1 + sqrt(3)*0.5/3 = 1.289; a1: 0.667 + sqrt(3)*0.5 = 1.533 -> a1 (-1). N=4, W=1.
    # sim 4: a0: 1 + 2*0.5/3 = 1.333; a1: -1 + 2*0.5/2 = -0.5 -> a0. N=5, W=2: root value 2/5.
    game = TableGame(
        num_players=2,
        action_size=2,
        table={
            (): Decision(0, (0.5, 0.5), (0.0, 0.0)),
            (0,): End((1.0, -1.0)),
            (1,): End((-1.0, 1.0)),
        },
    )
    out = _run(game, MCTSConfig(num_simulations=4, **FLAT))
    np.testing.assert_array_equal(out.visit_counts, [[3, 1]])
    np.testing.assert_allclose(out.policy, [[0.75, 0.25]])
    np.testing.assert_allclose(out.root_values, [[0.4, -0.4]], atol=1e-6)
    assert out.action is None
    assert out.visit_counts.dtype == out.policy.dtype == out.root_values.dtype == np.float32


def test_puct_rotates_network_values_and_revisits_terminals():
    # The evaluator answers mover-relative values; at (0,) player 1 moves, so the fake network says
    # [v_p1, v_p0] = [-0.6, 0.6]: worth +0.6 to the root's player 0 once rotated.
    # sim 1: tie at U = 0.5 -> a0, leaf value 0.6. Root N=2, W=0.6.
    # sim 2: Q_fpu = 0.3. a0: 0.6 + 1.414*0.5/2 = 0.954; a1: 0.3 + 0.707 = 1.007 -> a1 (-0.2). N=3, W=0.4.
    # sim 3: Q_fpu = 0.133. a0: 0.6 + 1.732*0.5/2 = 1.033; a1: -0.2 + 0.433 = 0.233 -> a0, then (0,0): +1.
    # sim 4: a0: Q = 1.6/2 = 0.8, 0.8 + 2*0.5/3 = 1.133; a1: -0.2 + 0.5 = 0.3 -> a0 -> terminal (0,0) again: +1.
    # Root N=5, W = 0 + 0.6 - 0.2 + 1 + 1 = 2.4 -> value 0.48.
    # With the value read the wrong way round (-0.6), sim 2 would pick a1 and sim 3 a1 again: visits [1, 2].
    game = TableGame(
        num_players=2,
        action_size=2,
        table={
            (): Decision(0, (0.5, 0.5), (0.0, 0.0)),
            (0,): Decision(1, (1.0, 0.0), (0.6, -0.6)),
            (1,): Decision(1, (1.0, 0.0), (-0.2, 0.2)),
            (0, 0): End((1.0, -1.0)),
            (1, 0): End((-1.0, 1.0)),
        },
    )
    out = _run(game, MCTSConfig(num_simulations=4, **FLAT))
    np.testing.assert_array_equal(out.visit_counts, [[3, 1]])
    np.testing.assert_allclose(out.root_values, [[0.48, -0.48]], atol=1e-6)


def test_fpu_reduction_changes_the_second_choice():
    # Same tree as the first test with fpu = 1: after sim 1 (a0, +1; N=2, W=1) an unvisited child is worth
    # 1/2 - 1 = -0.5: a0: 1.354, a1: -0.5 + 0.707 = 0.207 -> a0; sim 3: a0: 1.289, a1: 2/3 - 1 + 0.866 = 0.533
    # -> a0; sim 4: a0: 1 + 2*0.5/4 = 1.25, a1: 0.75 - 1 + 1 = 0.75 -> a0. Visits [4, 0].
    game = TableGame(
        num_players=2,
        action_size=2,
        table={
            (): Decision(0, (0.5, 0.5), (0.0, 0.0)),
            (0,): End((1.0, -1.0)),
            (1,): End((-1.0, 1.0)),
        },
    )
    out = _run(game, MCTSConfig(num_simulations=4, c_puct=1.0, c_puct_base=1e12, fpu=1.0))
    np.testing.assert_array_equal(out.visit_counts, [[4, 0]])


def test_three_players_each_maximise_their_own_value():
    # Player 0 chooses a0 or a1, then player 1 chooses between two endings.
    # After a0, player 1 prefers (0,1) [-0.5, 1, -0.5] over (0,0) [1, -0.5, -0.5]: a0 is worth -0.5 to player 0.
    # After a1, player 1 prefers (1,0) [0.5, 0.5, -1] over (1,1) [-1, 0, 1]: a1 is worth +0.5 to player 0.
    # Max-n says a1. A "paranoid" search (everyone else minimises player 0) would say a0 (-0.5 > -1).
    table = {
        (): Decision(0, (0.5, 0.5), (0.0, 0.0, 0.0)),
        (0,): Decision(1, (0.5, 0.5), (0.0, 0.0, 0.0)),
        (1,): Decision(1, (0.5, 0.5), (0.0, 0.0, 0.0)),
        (0, 0): End((1.0, -0.5, -0.5)),
        (0, 1): End((-0.5, 1.0, -0.5)),
        (1, 0): End((0.5, 0.5, -1.0)),
        (1, 1): End((-1.0, 0.0, 1.0)),
    }
    game = TableGame(num_players=3, action_size=2, table=table)
    out = _run(game, MCTSConfig(num_simulations=200))
    assert out.visit_counts[0, 1] > 2 * out.visit_counts[0, 0]
    # The root's value heads for the principal line (1,0): [0.5, 0.5, -1]; under a0 player 0 gets -0.5 or less.
    assert out.root_values[0, 0] > 0.2 and out.root_values[0, 2] < -0.5, out.root_values
    # Sequential halving splits the visits of two considered actions evenly; the choice and π' carry the answer.
    out = _run(game, MCTSConfig(num_simulations=32, gumbel=True))
    assert out.action.tolist() == [1]
    assert out.policy[0, 1] > 0.9


@pytest.mark.parametrize(
    ("m", "n", "expected"),
    [
        # m=4, n=8: ceil(log2 4) = 2 phases; phase 1 gives each of 4 actions max(1, 8 // (2*4)) = 1 visit, then
        # 2 remain and get 8 // (2*2) = 2 visits each.
        (4, 8, [0, 0, 0, 0, 1, 1, 2, 2]),
        # m=3, n=6: phase 1: 1 visit each (6 // 6); then 2 actions, 6 // 4 = 1 visit per phase, until n is spent.
        (3, 6, [0, 0, 0, 1, 1, 2]),
        (2, 4, [0, 0, 1, 1]),
        (1, 3, [0, 1, 2]),
    ],
)
def test_sequential_halving_schedule(m, n, expected):
    table = considered_visits_table(m, n)
    assert table.shape == (m + 1, n) and table.dtype == np.int32
    assert table[m].tolist() == expected


GUMBEL_TABLE = {
    (): Decision(0, (0.5, 0.25, 0.25), (0.4, -0.4)),
    (0,): End((0.0, 0.0)),
    (1,): End((1.0, -1.0)),
    (2,): End((-1.0, 1.0)),
}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def test_gumbel_halving_and_improved_policy_by_hand():
    # m = 3 considered actions, n = 6: schedule [0, 0, 0, 1, 1, 2] (see test above). No noise: g = 0.
    # sims 1-3 (visit 0): unvisited actions share one σ value, so the order is by prior: a0, a1, a2. Q = [0, 1, -1].
    # sim 4 (visit 1): σ = (50 + 1) * 0.1 * q̂ with q̂ = [0.5, 1, 0]; logits (minus max) [0, -0.69, -0.69]
    #   -> scores [2.55, 4.41, -0.69] -> a1.
    # sim 5 (visit 1, a1 has 2 now): σ scale 5.2 -> a0: 2.6, a2: -0.69 -> a0.  sim 6 (visit 2): a0 2.6 vs a1 4.51 -> a1.
    game = TableGame(num_players=2, action_size=3, table=GUMBEL_TABLE)
    out = _run(game, MCTSConfig(num_simulations=6, gumbel=True))
    np.testing.assert_array_equal(out.visit_counts, [[2, 3, 1]])
    assert out.action.tolist() == [1]
    # π' = softmax(log prior + σ(q̂)) with max n = 3: σ = 5.3 * [0.5, 1, 0].
    expected = _softmax(np.log([0.5, 0.25, 0.25]) + 5.3 * np.array([0.5, 1.0, 0.0]))
    np.testing.assert_allclose(out.policy[0], expected, rtol=1e-5)


def test_gumbel_completes_unvisited_q_with_the_mixed_value():
    # n = 2: a0 (prior 0.5, Q = 0) and a1 (prior 0.25, Q = 1) are visited, a2 is not. Its Q is the mixed value
    # (v + Σn * Σ_visited π q / Σ_visited π) / (1 + Σn) = (0.4 + 2 * (0.25 / 0.75)) / 3.
    game = TableGame(num_players=2, action_size=3, table=GUMBEL_TABLE)
    out = _run(game, MCTSConfig(num_simulations=2, gumbel=True))
    np.testing.assert_array_equal(out.visit_counts, [[1, 1, 0]])
    mixed = (0.4 + 2 * (0.25 / 0.75)) / 3
    q_hat = np.array([0.0, 1.0, mixed])  # already spans [0, 1]
    expected = _softmax(np.log([0.5, 0.25, 0.25]) + (50 + 1) * 0.1 * q_hat)
    np.testing.assert_allclose(out.policy[0], expected, rtol=1e-5)
    # Both actions have the most visits (1); a1 wins on log prior + σ: -0.69 + 5.1 against 0 + 0.
    assert out.action.tolist() == [1]
    assert math.isclose(float(out.policy[0].sum()), 1.0, rel_tol=1e-6)


HALVING_TABLE = {
    (): Decision(0, (0.4, 0.3, 0.2, 0.1, 0.0), (0.0, 0.0)),  # action 4 is illegal
    (0,): End((0.0, 0.0)),
    (1,): End((1.0, -1.0)),
    (2,): End((-1.0, 1.0)),
    (3,): End((1.0, -1.0)),
}


def test_gumbel_two_phases_of_halving_over_four_actions_by_hand():
    # m = 4 legal actions, n = 8: schedule [0, 0, 0, 0, 1, 1, 2, 2]. Logits minus the max: log(p / 0.4) =
    # [0, -0.288, -0.693, -1.386]. Sims 1-4 (visit 0): unvisited actions share σ, so by prior: a0, a1, a2, a3.
    # Then Q = [0, 1, -1, 1]; every legal action is visited, so q̂ = (Q + 1) / 2 = [0.5, 1, 0, 1].
    # sim 5 (visit 1): σ = 5.1 q̂ -> scores [2.55, 4.81, -0.69, 3.71] -> a1 (2 visits).
    # sim 6 (visit 1, among a0, a2, a3): σ = 5.2 q̂ -> [2.6, -0.69, 3.81] -> a3.
    # sim 7 (visit 2, a1 or a3): 4.91 vs 3.81 -> a1.  sim 8 (visit 2): only a3 has 2 -> a3.
    game = TableGame(num_players=2, action_size=5, table=HALVING_TABLE)
    out = _run(game, MCTSConfig(num_simulations=8, gumbel=True))
    np.testing.assert_array_equal(out.visit_counts, [[1, 3, 1, 3, 0]])
    # The winner among the most visited (3): a1 at -0.288 + 5.3 against a3 at -1.386 + 5.3.
    assert out.action.tolist() == [1]
    # π' = softmax(log prior + (50 + 3) * 0.1 * q̂) over the legal actions; the illegal one gets nothing.
    expected = _softmax(np.log([0.4, 0.3, 0.2, 0.1]) + 5.3 * np.array([0.5, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(out.policy[0, :4], expected, rtol=1e-5)
    assert out.policy[0, 4] == 0.0
