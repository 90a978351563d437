"""The conformance checker itself: it must catch each kind of protocol breach it promises to catch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.games import ConnectGame, HexGame
from app.games.base import play_randomly
from app.games.conformance import ConformanceError, check_game


def small_connect(cls=ConnectGame) -> ConnectGame:
    return cls(width=4, height=3, k=3)


class MutatingApply(ConnectGame):
    def apply(self, state, action):
        nxt = super().apply(state, action)
        state.board.flags.writeable = True
        state.board[:] = nxt.board  # the bug: writes the move into the caller's state
        return nxt


class MaskAtTerminal(ConnectGame):
    def legal_mask(self, state):
        return state.heights < self.height


class SilentIllegal(HexGame):
    def apply(self, state, action):
        if 0 <= action < self.action_size and state.board[action] >= 0 and state.winner < 0:
            return state  # the bug: ignores an occupied cell instead of raising
        return super().apply(state, action)


class NonZeroSum(ConnectGame):
    def returns(self, state):
        r = super().returns(state)
        return np.where(r < 0, 0.0, r).astype(np.float32)


class Float64Planes(HexGame):
    def encode(self, state):
        return super().encode(state).astype(np.float64)


class NeverEnds(ConnectGame):
    def is_terminal(self, state):
        return False

    def legal_mask(self, state):
        return np.ones(self.width, dtype=bool)

    def apply(self, state, action):
        if not 0 <= action < self.width:
            raise ValueError("out of range")
        return dataclasses.replace(state, moves=state.moves + 1)

    def random_playout(self, state, rng):
        return np.zeros(self.num_players, dtype=np.float32)


class UnseededPlayout(HexGame):
    def random_playout(self, state, rng):
        return super().random_playout(state, np.random.default_rng())


@pytest.mark.parametrize(
    ("game", "message"),
    [
        (small_connect(MutatingApply), "changed its input"),
        (small_connect(MaskAtTerminal), "all False at a terminal"),
        (SilentIllegal(3), "must raise ValueError"),
        (small_connect(NonZeroSum), "sum to zero"),
        (Float64Planes(3), "encode must be float32"),
        (small_connect(NeverEnds), "did not end within 50 moves"),
        (UnseededPlayout(4), "reproducible"),
    ],
)
def test_checker_catches(game, message: str) -> None:
    with pytest.raises(ConformanceError, match=message):
        check_game(game, n_games=30, seed=1, max_moves=50)


def test_checker_passes_a_protocol_only_game() -> None:
    # A game written against the protocol alone, delegating its playouts to the reference implementation.
    class Reference(ConnectGame):
        def random_playout(self, state, rng):
            return play_randomly(self, state, rng)

    report = check_game(small_connect(Reference), n_games=30, seed=2)
    assert report.games == 30 and report.moves > 30 and report.max_length <= 12
