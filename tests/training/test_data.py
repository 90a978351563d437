import numpy as np
import pytest

from app.core.errors import InvalidConfig
from app.games.base import Symmetry
from app.games.registry import make_game
from app.storage.shards import ShardData, ShardStore
from app.training.data import augment, load_window, split_by_game

from .conftest import random_games_shard


def test_split_by_game_never_puts_one_game_on_both_sides():
    rng = np.random.default_rng(0)
    group = np.repeat(np.arange(40), rng.integers(1, 30, size=40))
    train, val = split_by_game(group, 0.2, seed=3)
    assert len(train) + len(val) == len(group)
    assert set(group[train]).isdisjoint(group[val])
    assert len(set(group[val])) == 8
    again = split_by_game(group, 0.2, seed=3)
    np.testing.assert_array_equal(again[1], val)  # seeded
    assert not np.array_equal(split_by_game(group, 0.2, seed=4)[1], val)


def test_split_keeps_a_game_on_each_side_and_refuses_a_single_game():
    train, val = split_by_game(np.array([0, 0, 1, 1]), 0.01, seed=0)
    assert len(val) == 2 and len(train) == 2
    train, val = split_by_game(np.array([0, 0, 1]), 0.5, seed=0)
    assert len(train) > 0 and len(val) > 0
    train, val = split_by_game(np.array([5, 5, 5]), 0.0, seed=0)
    assert len(train) == 3 and len(val) == 0
    with pytest.raises(InvalidConfig, match="at least 2"):
        split_by_game(np.array([5, 5, 5]), 0.1, seed=0)


def test_window_keeps_the_newest_positions_and_tells_games_of_different_shards_apart(settings):
    store = ShardStore(settings)
    # Both shards number their games from 0: the window must still see 2 + 3 distinct games.
    old = random_games_shard("hex5", 2, 2, seed=1)
    new = random_games_shard("hex5", 2, 3, seed=2)
    store.write("hex5_2p", "old", old)
    store.write("hex5_2p", "new", new)
    records = store.newest("hex5_2p", 10_000)
    window = load_window(store, records, 10_000)
    assert window.shards == ["new", "old"] and window.games == 5
    assert window.data.positions == new.positions + old.positions

    cut = new.positions + 4
    window = load_window(store, store.newest("hex5_2p", cut), cut)
    assert window.data.positions == cut
    # The oldest shard contributes its last 4 positions.
    np.testing.assert_array_equal(window.data.planes[-4:], old.planes[-4:])
    train, val = split_by_game(window.group, 0.3, seed=0)
    assert set(window.group[train]).isdisjoint(window.group[val])


def test_augment_maps_planes_and_policy_through_the_same_symmetry():
    rng = np.random.default_rng(0)
    h, w, a = 3, 4, 12
    flip = np.arange(h * w).reshape(h, w)[:, ::-1].reshape(-1)
    syms = [
        Symmetry("identity", np.arange(h * w), np.arange(a)),
        Symmetry("mirror", flip, flip),
        Symmetry("rot180", np.arange(h * w)[::-1].copy(), np.arange(a)[::-1].copy()),
    ]
    planes = rng.random((300, 2, h, w)).astype(np.float32)
    policy = rng.random((300, a)).astype(np.float32)
    out_planes, out_policy = augment(planes, policy, syms, np.random.default_rng(1))
    used = []
    for i in range(len(planes)):
        matches = [
            k
            for k, s in enumerate(syms)
            if np.array_equal(out_planes[i], s.planes(planes[i]))
            and np.array_equal(out_policy[i], s.policy(policy[i]))
        ]
        assert len(matches) == 1, f"sample {i}: planes and policy were not mapped by one symmetry"
        used.append(matches[0])
    assert set(used) == {0, 1, 2}  # every symmetry is drawn
    assert out_planes is not planes and np.array_equal(planes, planes.copy())  # inputs untouched


def test_augment_on_connect_four_mirrors_columns_and_policy_together():
    game = make_game("connect4", 2)
    data = random_games_shard("connect4", 2, 3, seed=5)
    # A one-hot policy on the leftmost legal column of each position.
    policy = np.zeros_like(data.policy)
    first = data.policy.argmax(axis=1)
    policy[np.arange(len(first)), first] = 1
    out_planes, out_policy = augment(data.planes, policy, game.symmetries(), np.random.default_rng(0))
    mirrored = ~np.all(out_planes == data.planes, axis=(1, 2, 3))
    assert mirrored.any() and (~mirrored).any()
    np.testing.assert_array_equal(out_planes[mirrored], data.planes[mirrored][..., ::-1])
    np.testing.assert_array_equal(out_policy[mirrored], policy[mirrored][:, ::-1])
    # The target move is still a legal move of the mirrored position: a column that was not full.
    legal_after = data.policy[mirrored][:, ::-1] > 0
    assert np.all(legal_after[np.arange(mirrored.sum()), out_policy[mirrored].argmax(axis=1)])


def test_shard_data_from_random_games_is_consistent():
    data = random_games_shard("connect4", 3, 2, seed=0)
    assert isinstance(data, ShardData) and data.value.shape[1] == 3
    np.testing.assert_allclose(data.policy.sum(axis=1), 1.0, rtol=1e-6)
