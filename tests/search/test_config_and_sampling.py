"""MCTSConfig validation and temperature-controlled move choice."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.search import MCTSConfig, select_action


def test_config_is_keyword_only_frozen_and_validated():
    with pytest.raises(TypeError):
        MCTSConfig(100)  # type: ignore[misc]
    config = MCTSConfig(num_simulations=8)
    with pytest.raises(AttributeError):
        config.num_simulations = 9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_simulations": 0}, "num_simulations must be an integer >= 1"),
        ({"num_simulations": 2.5}, "num_simulations must be an integer >= 1"),
        ({"c_puct": -1.0}, "c_puct must be a finite number >= 0"),
        ({"dirichlet_alpha": 0.0}, "dirichlet_alpha must be a finite number > 0"),
        ({"dirichlet_epsilon": 1.5}, r"dirichlet_epsilon must be in \[0, 1\]"),
        ({"fpu": float("nan")}, "fpu must be a finite number"),
        ({"max_considered_actions": 0}, "max_considered_actions must be an integer >= 1"),
        ({"leaves_per_step": 0}, "leaves_per_step must be an integer >= 1"),
        ({"selection": "alphabeta"}, r"selection must be one of \('puct', 'ucb1'\)"),
        ({"selection": "ucb1", "gumbel": True}, "gumbel=True brings its own interior selection"),
    ],
)
def test_config_rejects_bad_values_by_name(kwargs, message):
    with pytest.raises(InvalidConfig, match=message):
        MCTSConfig(**kwargs)


def test_temperature_zero_is_argmax_with_random_tie_break():
    rng = np.random.default_rng(0)
    assert select_action(np.array([1.0, 5.0, 2.0]), 0, rng) == 1
    picks = {select_action(np.array([3.0, 0.0, 3.0, 1.0]), 0.0, rng) for _ in range(50)}
    assert picks == {0, 2}


def test_temperature_one_samples_in_proportion():
    rng = np.random.default_rng(1)
    visits = np.array([0.0, 30.0, 10.0, 0.0])
    picks = np.array([select_action(visits, 1.0, rng) for _ in range(4000)])
    assert set(picks.tolist()) == {1, 2}
    assert abs((picks == 1).mean() - 0.75) < 0.03


def test_temperature_sharpens_and_never_picks_zero_entries():
    rng = np.random.default_rng(2)
    visits = np.array([1.0, 2.0, 0.0])
    # T = 0.5 squares the counts: p = [1, 4, 0] / 5.
    picks = np.array([select_action(visits, 0.5, rng) for _ in range(4000)])
    assert abs((picks == 1).mean() - 0.8) < 0.03 and not (picks == 2).any()
    # A tiny temperature must not overflow: it is greedy in effect.
    assert select_action(np.array([100.0, 101.0]), 1e-4, rng) == 1


def test_batched_rows_and_reproducibility():
    rows = np.array([[0.0, 1.0, 1.0], [5.0, 0.0, 0.0]])
    a = select_action(rows, 1.0, np.random.default_rng(3))
    b = select_action(rows, 1.0, np.random.default_rng(3))
    assert a.dtype == np.int64 and a.shape == (2,)
    np.testing.assert_array_equal(a, b)
    assert a[1] == 0


@pytest.mark.parametrize(
    ("x", "temperature", "message"),
    [
        (np.zeros(3), 1.0, "all zero"),
        (np.array([1.0, -1.0]), 1.0, "non-negative"),
        (np.ones((2, 2, 2)), 1.0, r"shaped \[A\] or \[B, A\]"),
        (np.ones(3), -1.0, "temperature must be >= 0"),
        (np.ones(3), float("inf"), "temperature must be a finite number"),
    ],
)
def test_select_action_rejects_bad_input(x, temperature, message):
    with pytest.raises(ValueError, match=message):
        select_action(x, temperature, np.random.default_rng(0))
