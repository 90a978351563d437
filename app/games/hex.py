"""Hex on an n×n rhombus, two players, with an optional swap (pie) rule.

Conventions (the same as OpenSpiel's ``hex``, which the tests cross-check against):

- Cell (r, c) is action ``r * n + c``; row 0 is the top. Cell (r, c) touches (r-1, c), (r-1, c+1), (r, c-1),
  (r, c+1), (r+1, c-1), (r+1, c).
- Player 0 (X) moves first and connects the top row to the bottom row; player 1 (O) connects the left column to
  the right column. Hex has no draws.
- Swap rule (``HexGame(n, swap=True)``, board type ``hex{n}swap``): action ``n * n`` is legal only as the second
  player's first move. It replaces X's stone on (r, c) by an O stone on (c, r) and gives the move back to player
  0 — the colours stay tied to the seats, which is equivalent to swapping seats and keeps returns in seat order.

Encoding, from the mover's point of view, in absolute board orientation (so the policy needs no remapping —
action i is cell i for the network too): float32 [C, n, n] with planes
0 the mover's stones, 1 the opponent's stones, 2 ones (marks the board inside the network's zero padding),
3 ones when the mover is player 1 (connects left-right) and zeros when the mover connects top-bottom,
4 (swap variant only) ones while the swap is legal.
Transposing the board for player 1 would let the network share one orientation, but then every policy would have
to be transposed back by every consumer; the colour plane keeps encode and actions trivially coherent.

Symmetries: identity and the 180° rotation (cell i ↔ n*n-1-i; the swap action maps to itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.core.errors import InvalidConfig
from app.core.names import config_key
from app.games._actions import as_action
from app.games._hex_kernels import EMPTY, encode, initial_parent, place, random_winners
from app.games._rng import draw_seed
from app.games.base import Symmetry
from app.games.scoring import winner_returns

MIN_SIZE, MAX_SIZE = 2, 19


@dataclass(frozen=True, slots=True, eq=False)
class HexState:
    """A Hex position. Arrays are read-only: states are shared by search trees.

    board: int8 [n*n], -1 empty, 0/1 stones; parent: int16 [n*n + 4] union-find over cells and the four edges.
    """

    board: np.ndarray
    parent: np.ndarray
    to_move: int
    winner: int  # -1 while the game goes on
    moves: int  # actions applied so far (a swap counts as one)


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class HexGame:
    """Hex on an n×n board (see the module docstring for every convention)."""

    num_players = 2

    def __init__(self, size: int = 8, *, swap: bool = False) -> None:
        if not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            raise InvalidConfig(f"Hex board size must be an integer in {MIN_SIZE}..{MAX_SIZE}, got {size!r}")
        self.size = size
        self.swap = bool(swap)
        self.board_type = f"hex{size}swap" if self.swap else f"hex{size}"
        self.board_shape = (size, size)
        self.num_planes = 5 if self.swap else 4
        self._cells = size * size
        self.action_size = self._cells + (1 if self.swap else 0)
        self._returns_by_winner = np.stack([winner_returns(2, 0), winner_returns(2, 1)])
        self._initial = HexState(
            board=_frozen(np.full(self._cells, EMPTY, dtype=np.int8)),
            parent=_frozen(initial_parent(size)),
            to_move=0,
            winner=-1,
            moves=0,
        )

    def __repr__(self) -> str:
        return f"HexGame(size={self.size}, swap={self.swap})"

    @property
    def config_key(self) -> str:
        return config_key(self.board_type, self.num_players)

    @property
    def swap_action(self) -> int | None:
        """The swap action's index, or None without the swap rule."""
        return self._cells if self.swap else None

    def initial_state(self) -> HexState:
        return self._initial

    def current_player(self, state: HexState) -> int:
        return state.to_move

    def is_terminal(self, state: HexState) -> bool:
        return state.winner >= 0

    def _swap_legal(self, state: HexState) -> bool:
        return self.swap and state.moves == 1 and state.winner < 0

    def legal_mask(self, state: HexState) -> np.ndarray:
        if state.winner >= 0:
            return np.zeros(self.action_size, dtype=bool)
        if not self.swap:
            return state.board < 0
        mask = np.zeros(self.action_size, dtype=bool)
        np.less(state.board, 0, out=mask[: self._cells])
        mask[self._cells] = state.moves == 1
        return mask

    def apply(self, state: HexState, action: int) -> HexState:
        a = as_action(action, self.action_size)
        if state.winner >= 0:
            raise ValueError(f"the game is over (player {state.winner} won): no action is legal")
        if a == self._cells:
            if not self._swap_legal(state):
                raise ValueError("swap is legal only as the second player's first move")
            first = int(np.flatnonzero(state.board >= 0)[0])
            r, c = divmod(first, self.size)
            empty = self._initial
            board, parent, _ = place(empty.board, empty.parent, c * self.size + r, 1, self.size)
            return HexState(_frozen(board), _frozen(parent), 0, -1, state.moves + 1)
        if state.board[a] != EMPTY:
            raise ValueError(f"illegal action {a} ({self.action_to_string(a)}): the cell is occupied")
        board, parent, won = place(state.board, state.parent, a, state.to_move, self.size)
        return HexState(
            board=_frozen(board),
            parent=_frozen(parent),
            to_move=1 - state.to_move,
            winner=state.to_move if won else -1,
            moves=state.moves + 1,
        )

    def returns(self, state: HexState) -> np.ndarray:
        if state.winner < 0:
            raise ValueError("returns are defined only for terminal states; this game is still going")
        return self._returns_by_winner[state.winner].copy()

    def encode(self, state: HexState) -> np.ndarray:
        return encode(state.board, state.to_move, self.size, self.num_planes, self._swap_legal(state))

    @cached_property
    def _symmetries(self) -> list[Symmetry]:
        cells = np.arange(self._cells, dtype=np.int64)
        rot = cells[::-1].copy()
        identity_actions = np.arange(self.action_size, dtype=np.int64)
        rot_actions = identity_actions.copy()
        rot_actions[: self._cells] = rot
        return [
            Symmetry("identity", cells, identity_actions),
            Symmetry("rot180", rot, rot_actions),
        ]

    def symmetries(self) -> list[Symmetry]:
        return list(self._symmetries)

    def random_playout(self, state: HexState, rng: np.random.Generator) -> np.ndarray:
        """float32 [2]: returns of one uniformly random continuation of ``state``."""
        if state.winner >= 0:
            return self._returns_by_winner[state.winner].copy()
        if self._swap_legal(state):
            return self.random_playouts(state, 1, rng)[0]
        winner = random_winners(state.board, state.to_move, self.size, 1, draw_seed(rng))[0]
        return self._returns_by_winner[winner].copy()

    def random_playouts(self, state: HexState, count: int, rng: np.random.Generator) -> np.ndarray:
        """float32 [count, 2]: returns of ``count`` independent uniformly random continuations of ``state``."""
        if state.winner >= 0:
            return np.tile(self._returns_by_winner[state.winner], (count, 1))
        if self._swap_legal(state):
            # The swap is one of m+1 equally likely first moves; a random cell move is already what filling
            # the board from ``state`` does, so only the swapped games need a separate start.
            m = int(np.count_nonzero(state.board < 0))
            swapped = int(rng.binomial(count, 1.0 / (m + 1)))
            after_swap = self.apply(state, self._cells)
            winners = np.concatenate(
                [
                    random_winners(state.board, state.to_move, self.size, count - swapped, draw_seed(rng)),
                    random_winners(after_swap.board, 0, self.size, swapped, draw_seed(rng)),
                ]
            )
            winners = winners[rng.permutation(count)]
        else:
            winners = random_winners(state.board, state.to_move, self.size, count, draw_seed(rng))
        return self._returns_by_winner[winners]

    def action_to_string(self, action: int) -> str:
        """``swap`` or the cell as column letter + row number, e.g. ``c4`` for row 3, column 2 (0-based)."""
        a = as_action(action, self.action_size)
        if a == self._cells:
            return "swap"
        r, c = divmod(a, self.size)
        return f"{chr(ord('a') + c)}{r + 1}"

    def render(self, state: HexState) -> str:
        n = self.size
        symbols = {EMPTY: ".", 0: "X", 1: "O"}
        header = f"{self.board_type}: X (player 0) joins top-bottom, O (player 1) joins left-right"
        if state.winner >= 0:
            status = f"{symbols[state.winner]} (player {state.winner}) won"
        else:
            status = f"{symbols[state.to_move]} (player {state.to_move}) to move"
        lines = [header, status, "    " + " ".join(chr(ord("a") + c) for c in range(n))]
        for r in range(n):
            row = " ".join(symbols[int(v)] for v in state.board[r * n : (r + 1) * n])
            lines.append(f"{r + 1:>3} " + " " * r + row)
        return "\n".join(lines)
