"""Types shared by search, agents, selfplay and the arena.

The bottom of the search package: it imports nothing from ``app.search``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from app.games.base import Game, State

EvaluateFn = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""(planes float32 [B,C,H,W], legal bool [B,A]) -> (priors float32 [B,A] normalised over legal moves,
values float32 [B,P] mover-relative: index i is player (to_move + i) % P). The same contract as ``app.nn``."""


@dataclass(frozen=True)
class SearchOutput:
    """What one batched search returns for B root states.

    ``visit_counts``: float32 [B, A], visits of each root child (sums to the number of simulations).
    ``policy``: float32 [B, A], the training target: the visit distribution for PUCT, the improved policy
    π' = softmax(logits + σ(completed Q)) for a Gumbel root. Zero on illegal actions, rows sum to 1.
    ``root_values``: float32 [B, P], the mean backed-up value of each root in absolute player order.
    ``action``: int64 [B], the Gumbel root's choice (the winner of sequential halving); None for PUCT, where the
    caller picks with ``select_action`` at the temperature it wants.
    ``proven_action``: int64 [B] with ``MCTSConfig.solver``, the move each root is proven to win (or, where every
    move is decided and none wins, draw) with, -1 where undecided; a Gumbel ``action`` already equals it where set.
    None without the solver.
    """

    visit_counts: np.ndarray
    policy: np.ndarray
    root_values: np.ndarray
    action: np.ndarray | None = None
    proven_action: np.ndarray | None = None


@runtime_checkable
class Agent(Protocol):
    """Something that picks moves, for many games at once.

    ``name`` is its identity in ratings (``random``, ``rollout_mcts_200``, a model id).
    """

    name: str

    def select_actions(self, game: Game, states: list[State], rng: np.random.Generator) -> list[int]:
        """One legal action for each (non-terminal) state, chosen together so that network calls are batched."""
        ...
