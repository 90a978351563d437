"""Exact expected returns of uniformly random play, by exhaustive search of a tiny built-in game (a test oracle)."""

from __future__ import annotations

import numpy as np

from app.games.base import Game, State


def exact_random_returns(game: Game, state: State) -> np.ndarray:
    """float64 [P]: E[returns] when every player picks uniformly among legal moves from ``state`` on."""
    memo: dict[bytes, np.ndarray] = {}

    def value(s: State) -> np.ndarray:
        if game.is_terminal(s):
            return game.returns(s).astype(np.float64)
        # The built-in states' board and mover determine the rest of the state (including whether swap is legal).
        key = s.board.tobytes() + bytes([game.current_player(s)])
        if key not in memo:
            actions = np.flatnonzero(game.legal_mask(s))
            memo[key] = np.mean([value(game.apply(s, int(a))) for a in actions], axis=0)
        return memo[key]

    return value(state)
