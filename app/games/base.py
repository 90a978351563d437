"""The Game protocol: everything the rest of zeroloop knows about a game.

States are immutable from the caller's point of view: ``apply`` returns a new state and never changes the one
it was given, so a search tree may keep every state it visits. Players are numbered 0..num_players-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from app.core.errors import InvalidConfig

State = Any  # each game defines its own state type; only the game looks inside it


@dataclass(frozen=True)
class Symmetry:
    """A board symmetry that maps planes and policies together.

    ``cell_perm``: int64 [H*W]; transformed ``planes.reshape(C, H*W)[:, i] == planes.reshape(C, H*W)[:, cell_perm[i]]``.
    ``action_perm``: int64 [action_size]; transformed ``policy[i] == policy[action_perm[i]]`` (also the legal mask).
    """

    name: str
    cell_perm: np.ndarray
    action_perm: np.ndarray

    def planes(self, planes: np.ndarray) -> np.ndarray:
        """Map planes float32 [..., C, H, W] through the symmetry."""
        shape = planes.shape
        flat = planes.reshape(*shape[:-2], shape[-2] * shape[-1])
        return flat[..., self.cell_perm].reshape(shape)

    def policy(self, policy: np.ndarray) -> np.ndarray:
        """Map a policy (or legal mask) [..., action_size] through the symmetry."""
        return policy[..., self.action_perm]


@runtime_checkable
class Game(Protocol):
    """Rules of one board game with a fixed board size and player count."""

    board_type: str  # registry name, e.g. "hex8"
    num_players: int
    board_shape: tuple[int, int]  # (H, W) of the encoded planes
    num_planes: int  # C of the encoded planes
    action_size: int

    @property
    def config_key(self) -> str: ...

    def initial_state(self) -> State: ...

    def current_player(self, state: State) -> int:
        """The player to move (undefined for terminal states)."""
        ...

    def legal_mask(self, state: State) -> np.ndarray:
        """bool [action_size]; all False for terminal states."""
        ...

    def apply(self, state: State, action: int) -> State:
        """The state after the player to move plays ``action``; an illegal action raises ValueError."""
        ...

    def is_terminal(self, state: State) -> bool: ...

    def returns(self, state: State) -> np.ndarray:
        """float32 [num_players] for a terminal state.

        Two players: win +1, loss -1, draw 0. Three or four players: rank-based, summing to zero, ties share
        the mean of their ranks' values.
        """
        ...

    def encode(self, state: State) -> np.ndarray:
        """float32 [num_planes, H, W] from the point of view of the player to move."""
        ...

    def symmetries(self) -> list[Symmetry]:
        """The board's symmetries, identity first."""
        ...

    def render(self, state: State) -> str: ...

    def random_playout(self, state: State, rng: np.random.Generator) -> np.ndarray:
        """float32 [num_players]: returns of one uniformly random continuation of ``state`` (for rollouts).

        Built-in games run this in numba; a game of your own may delegate to ``play_randomly``.
        """
        ...


def play_randomly(game: Game, state: State, rng: np.random.Generator) -> np.ndarray:
    """Reference ``random_playout`` through the protocol alone: float32 [num_players]."""
    while not game.is_terminal(state):
        state = game.apply(state, int(rng.choice(np.flatnonzero(game.legal_mask(state)))))
    return game.returns(state)


def random_openings(
    game: Game, count: int, *, num_moves: int, rng: np.random.Generator
) -> list[tuple[int, ...]]:
    """``count`` openings of ``num_moves`` uniformly random legal moves that leave the game unfinished.

    Openings are drawn independently, so two groups may share one on a small board; that is sampling, not a bug.
    """
    if num_moves < 0 or count < 0:
        raise InvalidConfig(
            f"openings need count >= 0 and num_moves >= 0, got count={count}, num_moves={num_moves}"
        )
    openings = []
    for _ in range(count):
        for _attempt in range(100):
            state, moves = game.initial_state(), []
            for _ in range(num_moves):
                legal = np.flatnonzero(game.legal_mask(state))
                action = int(legal[rng.integers(legal.size)])
                state = game.apply(state, action)
                moves.append(action)
                if game.is_terminal(state):
                    break
            if not game.is_terminal(state):
                openings.append(tuple(moves))
                break
        else:
            raise InvalidConfig(
                f"could not find an opening of {num_moves} random moves that leaves {game.config_key} unfinished; "
                "use fewer opening moves"
            )
    return openings
