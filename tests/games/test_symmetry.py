"""Symmetries: permutations (identity first) that map planes, legality and results together."""

from __future__ import annotations

import numpy as np
import pytest

from app.games import ConnectGame, HexGame, Symmetry, make_game, supported
from app.games.conformance import ConformanceError, check_game


def all_games():
    return [make_game(b, p) for b, counts in supported().items() for p in counts]


@pytest.mark.parametrize("game", all_games(), ids=lambda g: g.config_key)
def test_symmetries_are_involutive_permutations(game) -> None:
    syms = game.symmetries()
    assert [s.name for s in syms] == ["identity", "rot180" if isinstance(game, HexGame) else "mirror"]
    cells = game.board_shape[0] * game.board_shape[1]
    for s in syms:
        assert s.cell_perm.dtype == np.int64 and s.action_perm.dtype == np.int64
        np.testing.assert_array_equal(np.sort(s.cell_perm), np.arange(cells))
        np.testing.assert_array_equal(np.sort(s.action_perm), np.arange(game.action_size))
        # Both are reflections/half-turns: applying twice is the identity.
        np.testing.assert_array_equal(s.cell_perm[s.cell_perm], np.arange(cells))
        np.testing.assert_array_equal(s.action_perm[s.action_perm], np.arange(game.action_size))


def test_symmetries_cannot_be_mutated_through_the_list() -> None:
    g = make_game("hex8", 2)
    g.symmetries().clear()
    assert len(g.symmetries()) == 2


def test_hex_rotation_maps_cells_and_keeps_swap() -> None:
    g = HexGame(5, swap=True)
    rot = g.symmetries()[1]
    board = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    np.testing.assert_array_equal(rot.planes(board)[0], board[0, ::-1, ::-1])
    assert rot.action_perm[25] == 25
    assert rot.action_perm[0] == 24 and rot.action_perm[7] == 17  # (1,2) ↔ (3,2)


def test_connect_mirror_maps_columns() -> None:
    g = make_game("connect4", 3)
    mirror = g.symmetries()[1]
    planes = np.arange(63, dtype=np.float32).reshape(1, 7, 9)
    np.testing.assert_array_equal(mirror.planes(planes)[0], planes[0, :, ::-1])
    np.testing.assert_array_equal(mirror.action_perm, np.arange(9)[::-1])


def test_mirrored_game_has_mirrored_planes_and_same_result() -> None:
    g = make_game("connect4", 2)
    mirror = g.symmetries()[1]
    actions = [3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0]  # X wins on a falling diagonal
    s, m = g.initial_state(), g.initial_state()
    for a in actions:
        s, m = g.apply(s, a), g.apply(m, g.width - 1 - a)
        np.testing.assert_array_equal(g.encode(m), mirror.planes(g.encode(s)))
        np.testing.assert_array_equal(g.legal_mask(m), mirror.policy(g.legal_mask(s)))
    assert g.is_terminal(s) and g.is_terminal(m)
    np.testing.assert_array_equal(g.returns(s), g.returns(m))


class _TransposedHex(HexGame):
    """Hex with a transpose offered as a symmetry: wrong, because it swaps which edges each player joins."""

    def symmetries(self) -> list[Symmetry]:
        n = self.size
        t = np.arange(n * n, dtype=np.int64).reshape(n, n).T.reshape(-1).copy()
        return [*super().symmetries(), Symmetry("transpose", t, t)]


class _ShiftedConnect(ConnectGame):
    """A Connect game whose 'symmetry' rotates columns cyclically: a permutation, but not a symmetry."""

    def symmetries(self) -> list[Symmetry]:
        cols = np.roll(np.arange(self.width, dtype=np.int64), 1)
        cells = np.arange(self.width * self.height, dtype=np.int64).reshape(self.height, self.width)
        return [*super().symmetries(), Symmetry("shift", np.roll(cells, 1, axis=1).reshape(-1).copy(), cols)]


def test_conformance_rejects_a_false_hex_symmetry() -> None:
    with pytest.raises(ConformanceError, match="transpose"):
        check_game(_TransposedHex(4), n_games=20, seed=0)


def test_conformance_rejects_a_false_connect_symmetry() -> None:
    with pytest.raises(ConformanceError, match="shift"):
        check_game(_ShiftedConnect(width=5, height=4, k=3), n_games=20, seed=0)
