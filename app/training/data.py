"""The replay window: the newest positions of a config key, split into train and validation by game.

Positions of one game are strongly correlated, so a game goes wholly to one side of the split; otherwise the
validation loss would measure memorisation of the game rather than generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.errors import InvalidConfig
from app.games.base import Symmetry
from app.storage.shards import ShardData, ShardRecord, ShardStore


@dataclass(frozen=True)
class Window:
    """Positions of the replay window; ``group`` int64 [N] numbers the games (unique across shards)."""

    data: ShardData
    group: np.ndarray
    shards: list[str]

    @property
    def games(self) -> int:
        return len(np.unique(self.group))


def load_window(store: ShardStore, records: list[ShardRecord], max_positions: int) -> Window:
    """Load ``records`` (newest first) and keep the newest ``max_positions`` positions.

    The oldest shard is trimmed from its start: positions later in a shard come from later moves.
    """
    parts, groups, used = [], [], []
    remaining = max_positions
    for i, record in enumerate(records):
        if remaining <= 0:
            break
        data = store.load(record)
        if data.positions > remaining:
            data = data.take(slice(data.positions - remaining, None))
        parts.append(data)
        # Game ids are only unique within a shard: pair them with the shard.
        groups.append(np.stack([np.full(data.positions, i, np.int64), data.game_id], axis=1))
        used.append(record.name)
        remaining -= data.positions
    if not parts:
        raise InvalidConfig("no shards to train on")
    shapes = {p.planes.shape[1:] + p.policy.shape[1:] + p.value.shape[1:] for p in parts}
    if len(shapes) != 1:
        raise InvalidConfig(f"shards of the window disagree on shapes: {sorted(shapes)}")
    data = ShardData(
        np.concatenate([p.planes for p in parts]),
        np.concatenate([p.policy for p in parts]),
        np.concatenate([p.value for p in parts]),
        np.concatenate([p.game_id for p in parts]),
    )
    _, group = np.unique(np.concatenate(groups), axis=0, return_inverse=True)
    return Window(data, group.reshape(-1).astype(np.int64), used)


def split_by_game(
    group: np.ndarray, validation_fraction: float, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (int64) of the train and validation positions; no game has positions on both sides.

    With a positive fraction at least one game is held out and at least one is trained on.
    """
    games = np.unique(group)
    if validation_fraction <= 0:
        return np.arange(len(group), dtype=np.int64), np.zeros(0, np.int64)
    if len(games) < 2:
        raise InvalidConfig(
            f"the replay window holds {len(games)} game(s); splitting train/validation by game needs at least 2 "
            "(play more games or set validation_fraction=0)"
        )
    n_val = min(max(1, round(validation_fraction * len(games))), len(games) - 1)
    rng = np.random.default_rng([seed, 0x5E1D])
    val_games = rng.choice(games, size=n_val, replace=False)
    is_val = np.isin(group, val_games)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def augment(
    planes: np.ndarray, policy: np.ndarray, symmetries: list[Symmetry], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Map each sample through a symmetry drawn uniformly from ``symmetries`` (planes and policy together).

    planes float32 [B, C, H, W], policy float32 [B, A] -> new arrays of the same shapes.
    """
    if len(symmetries) <= 1:
        return planes, policy
    choice = rng.integers(len(symmetries), size=len(planes))
    planes, policy = planes.copy(), policy.copy()
    for k, sym in enumerate(symmetries):
        idx = np.flatnonzero(choice == k)
        if len(idx):
            planes[idx] = sym.planes(planes[idx])
            policy[idx] = sym.policy(policy[idx])
    return planes, policy
