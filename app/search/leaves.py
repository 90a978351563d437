"""How a search values the new leaves of a step: with a network (batched) or with random rollouts.

A leaf evaluator works in two halves so the search can overlap them: ``prepare`` (Python work on game states, on
the search's thread) and ``compute`` (the expensive part; for a network it releases the GIL, so the search runs it
on a worker thread while it prepares the next batch).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol, runtime_checkable

import numpy as np

from app.games.base import Game, State, play_randomly
from app.search.types import EvaluateFn


@runtime_checkable
class LeafEvaluator(Protocol):
    """Priors and values for a batch of non-terminal states.

    ``threaded``: True when ``compute`` may run on a worker thread (it must then not use ``rng``).
    """

    threaded: bool

    def prepare(self, states: list[State], to_move: np.ndarray, legal: np.ndarray) -> Any:
        """Everything ``compute`` needs. ``to_move``: int32 [n]; ``legal``: bool [n, A]."""
        ...

    def compute(self, prepared: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(priors float32 [n, A], zero on illegal moves; values float32 [n, P] in absolute player order)."""
        ...


_ROTATIONS: dict[int, np.ndarray] = {}


def rotate_to_absolute(values: np.ndarray, to_move: np.ndarray) -> np.ndarray:
    """Mover-relative values [n, P] (index i = player (to_move + i) % P) → absolute order [n, P].

    ``to_move``: int [n].
    """
    num_players = values.shape[1]
    # Row m of the table: for each absolute player, the mover-relative index that holds their value.
    table = _ROTATIONS.get(num_players)
    if table is None:
        table = _ROTATIONS[num_players] = (
            np.arange(num_players)[None, :] - np.arange(num_players)[:, None]
        ) % num_players
    return values[np.arange(len(values))[:, None], table[to_move]]


class NetworkLeaves:
    """Encodes states for ``evaluate_fn`` and rotates its mover-relative values to absolute order."""

    threaded = True

    def __init__(self, game: Game, evaluate_fn: EvaluateFn) -> None:
        if not callable(evaluate_fn):
            raise TypeError(
                f"evaluate_fn must be callable (planes, legal) -> (priors, values), got {evaluate_fn!r}"
            )
        self.game = game
        self.evaluate_fn = evaluate_fn

    def prepare(self, states: list[State], to_move: np.ndarray, legal: np.ndarray) -> Any:
        encode = self.game.encode
        planes = np.stack([encode(s) for s in states]).astype(np.float32, copy=False)
        return planes, legal, to_move

    def compute(self, prepared: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        planes, legal, to_move = prepared
        priors, values = self.evaluate_fn(planes, legal)
        n = planes.shape[0]
        game = self.game
        if np.shape(priors) != (n, game.action_size) or np.shape(values) != (n, game.num_players):
            raise ValueError(
                f"evaluate_fn returned priors of shape {np.shape(priors)} and values of shape {np.shape(values)} "
                f"for {n} positions; expected ({n}, {game.action_size}) and ({n}, {game.num_players})"
            )
        priors = np.where(legal, priors, 0.0).astype(np.float32, copy=False)
        values = np.asarray(values, dtype=np.float32)
        if not (np.isfinite(priors).all() and np.isfinite(values).all()):
            raise ValueError("evaluate_fn returned NaN or infinite priors or values (a diverged network?)")
        return priors, rotate_to_absolute(values, to_move)


class RolloutLeaves:
    """Uniform priors over legal moves and the returns of one random playout per leaf (network-free MCTS).

    Uses the game's ``random_playout(state, rng) -> float32 [P]`` (numba in the built-in games); a game without
    one is played out through the protocol (``play_randomly``).
    """

    threaded = False

    def __init__(self, game: Game) -> None:
        self.game = game
        fast = getattr(game, "random_playout", None)
        self._playout = fast if callable(fast) else partial(play_randomly, game)

    def prepare(self, states: list[State], to_move: np.ndarray, legal: np.ndarray) -> Any:
        return states, legal

    def compute(self, prepared: Any, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        states, legal = prepared
        priors = (legal / legal.sum(axis=1, keepdims=True)).astype(np.float32)
        values = np.empty((len(states), self.game.num_players), dtype=np.float32)
        for i, state in enumerate(states):
            values[i] = self._playout(state, rng)
        return priors, values
