"""Per-player result vectors shared by the built-in games."""

from __future__ import annotations

import numpy as np


def winner_returns(num_players: int, winner: int) -> np.ndarray:
    """float32 [num_players] when one player wins and everyone else shares the remaining ranks.

    Ranks are worth a linear scale from +1 (first) to -1 (last); tied players share the mean of the ranks they
    occupy. With one winner and P-1 players tied behind, that is +1 for the winner and -1/(P-1) for each of the
    others (two players: +1 / -1), so the vector sums to zero. ``winner < 0`` is a draw for everyone: zeros.
    """
    out = np.zeros(num_players, dtype=np.float32)
    if winner >= 0:
        out[:] = -1.0 / (num_players - 1)
        out[winner] = 1.0
    return out
