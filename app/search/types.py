"""Types shared by search, agents, selfplay and the arena."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from app.games.base import Game, State


@runtime_checkable
class Agent(Protocol):
    """Something that picks moves, for many games at once.

    ``name`` is its identity in ratings (``random``, ``rollout_mcts_200``, a model id).
    """

    name: str

    def select_actions(self, game: Game, states: list[State], rng: np.random.Generator) -> list[int]:
        """One legal action for each (non-terminal) state, chosen together so that network calls are batched."""
        ...
