from __future__ import annotations

import numpy as np
import pytest
import torch

from app.games.registry import make_game
from app.storage.shards import ShardData, ShardStore

TINY_NET = {"blocks": 1, "channels": 16, "value_hidden": 16}


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Two threads on a shared 2-core machine spin against other processes and run up to 10x slower."""
    before = torch.get_num_threads()
    monkeypatch.setenv("ZEROLOOP_TORCH_THREADS", "1")
    yield
    torch.set_num_threads(before)


def learnable_shard(games: int, positions: int, *, seed: int, shape=(4, 5, 5)) -> ShardData:
    """A fixed synthetic dataset with a target a small network can learn and that all board symmetries keep.

    Planes: random 0/1. Policy: uniform over the cells set in plane 0 (cell index = action, as in Hex).
    Value (two players, mover-relative): the sign of (stones in plane 0 - stones in plane 1), and its negation.
    """
    rng = np.random.default_rng(seed)
    n = games * positions
    planes = (rng.random((n, *shape)) < 0.25).astype(np.float32)
    planes[:, 0, 0, 0] = 1  # at least one target cell per position
    flat = planes[:, 0].reshape(n, -1)
    policy = (flat / flat.sum(axis=1, keepdims=True)).astype(np.float32)
    s = np.sign(planes[:, 0].sum(axis=(1, 2)) - planes[:, 1].sum(axis=(1, 2)))
    value = np.stack([s, -s], axis=1).astype(np.float32)
    return ShardData(planes, policy, value, np.repeat(np.arange(games, dtype=np.int64), positions))


def random_games_shard(
    board_type: str, num_players: int, games: int, *, seed: int, first_game: int = 0
) -> ShardData:
    """Positions of uniformly random games, shaped exactly like selfplay's shards.

    Policy target: uniform over the legal moves (learnable from the planes); value target: the game's returns in
    mover-relative order.
    """
    game = make_game(board_type, num_players)
    rng = np.random.default_rng(seed)
    planes, policy, value, game_id = [], [], [], []
    for g in range(games):
        state, movers, start = game.initial_state(), [], len(planes)
        while not game.is_terminal(state):
            legal = game.legal_mask(state)
            planes.append(game.encode(state))
            policy.append((legal / legal.sum()).astype(np.float32))
            movers.append(game.current_player(state))
            state = game.apply(state, int(rng.choice(np.flatnonzero(legal))))
        returns = game.returns(state)
        for mover in movers:
            value.append(np.roll(returns, -mover).astype(np.float32))
        game_id.extend([first_game + g] * (len(planes) - start))
    return ShardData(np.stack(planes), np.stack(policy), np.stack(value), np.array(game_id, np.int64))


def write_random_shards(
    settings, board_type="hex5", num_players=2, *, shards=2, games=12, seed=0
) -> list[str]:
    store = ShardStore(settings)
    key = f"{board_type}_{num_players}p"
    names = []
    for i in range(shards):
        data = random_games_shard(board_type, num_players, games, seed=seed + i)
        names.append(store.write(key, f"sp-{seed}-{i}", data).name)
    return names
