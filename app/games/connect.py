"""The Connect family: k in a row with gravity, for 2, 3 or 4 players.

Players take turns (0, 1, ..., P-1, 0, ...) dropping a stone into a column (action = column index, 0 = left);
it falls to the lowest empty cell. The first player to make ``k`` in a row (horizontal, vertical or diagonal) wins
and the game ends there. A full board with no line is a draw for everyone (returns all zero).

Returns (rank-based, summing to zero): the winner +1, every other player -1/(P-1) (they tie for the remaining
ranks; two players: +1/-1).

``connect4`` sizes, growing with the player count so that every player still gets a fair share of moves:

| players | width × height | cells per player | k |
|---------|----------------|------------------|---|
| 2       | 7 × 6          | 21               | 4 |
| 3       | 9 × 7          | 21               | 4 |
| 4       | 11 × 8         | 22               | 4 |

Encoding, from the mover's point of view: float32 [P + 1, height, width]; plane i holds the stones of player
``(to_move + i) % P`` (the mover first, then the others in turn order), the last plane is ones (marks the board
inside the network's zero padding). Row 0 is the top row.

Symmetries: identity and the left-right mirror (column c ↔ width-1-c, for cells and actions alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.core.errors import InvalidConfig
from app.core.names import config_key
from app.games._actions import as_action
from app.games._connect_kernels import EMPTY, drop, encode, random_winners
from app.games._rng import draw_seed
from app.games.base import Symmetry
from app.games.scoring import winner_returns

CONNECT4_SIZES: dict[int, tuple[int, int]] = {2: (7, 6), 3: (9, 7), 4: (11, 8)}  # players → (width, height)
SYMBOLS = "XOAB"


@dataclass(frozen=True, slots=True, eq=False)
class ConnectState:
    """A Connect position. Arrays are read-only: states are shared by search trees.

    board: int8 [height*width], row 0 on top, -1 empty; heights: int8 [width], stones per column.
    """

    board: np.ndarray
    heights: np.ndarray
    to_move: int
    winner: int  # -1 while the game goes on and after a draw
    moves: int  # stones on the board
    done: bool


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class ConnectGame:
    """k in a row with gravity on a width × height board (see the module docstring)."""

    def __init__(
        self, *, width: int, height: int, k: int, num_players: int = 2, board_type: str | None = None
    ) -> None:
        if not isinstance(num_players, int) or not 2 <= num_players <= len(SYMBOLS):
            raise InvalidConfig(f"Connect supports 2..{len(SYMBOLS)} players, got {num_players!r}")
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or not 1 <= value <= 32:
                raise InvalidConfig(f"Connect {name} must be an integer in 1..32, got {value!r}")
        if not isinstance(k, int) or not 2 <= k <= max(width, height):
            raise InvalidConfig(
                f"k must be an integer in 2..max(width, height)={max(width, height)}, got {k!r}"
            )
        self.width, self.height, self.k = width, height, k
        self.num_players = num_players
        self.board_type = board_type or f"connect{k}w{width}h{height}"
        self.board_shape = (height, width)
        self.num_planes = num_players + 1
        self.action_size = width
        self._cells = width * height
        self._returns_by_winner = np.stack(
            [winner_returns(num_players, w) for w in range(num_players)] + [winner_returns(num_players, -1)]
        )  # row -1 (the last) is the draw
        self._initial = ConnectState(
            board=_frozen(np.full(self._cells, EMPTY, dtype=np.int8)),
            heights=_frozen(np.zeros(width, dtype=np.int8)),
            to_move=0,
            winner=-1,
            moves=0,
            done=False,
        )

    def __repr__(self) -> str:
        return (
            f"ConnectGame(width={self.width}, height={self.height}, k={self.k}, "
            f"num_players={self.num_players}, board_type={self.board_type!r})"
        )

    @property
    def config_key(self) -> str:
        return config_key(self.board_type, self.num_players)

    def initial_state(self) -> ConnectState:
        return self._initial

    def current_player(self, state: ConnectState) -> int:
        return state.to_move

    def is_terminal(self, state: ConnectState) -> bool:
        return state.done

    def legal_mask(self, state: ConnectState) -> np.ndarray:
        if state.done:
            return np.zeros(self.width, dtype=bool)
        return state.heights < self.height

    def apply(self, state: ConnectState, action: int) -> ConnectState:
        col = as_action(action, self.action_size)
        if state.done:
            raise ValueError("the game is over: no action is legal")
        if state.heights[col] >= self.height:
            open_cols = np.flatnonzero(state.heights < self.height).tolist()
            raise ValueError(f"illegal action {col}: column {col} is full; open columns are {open_cols}")
        board, heights, won = drop(
            state.board, state.heights, col, state.to_move, self.height, self.width, self.k
        )
        moves = state.moves + 1
        return ConnectState(
            board=_frozen(board),
            heights=_frozen(heights),
            to_move=(state.to_move + 1) % self.num_players,
            winner=state.to_move if won else -1,
            moves=moves,
            done=won or moves == self._cells,
        )

    def returns(self, state: ConnectState) -> np.ndarray:
        if not state.done:
            raise ValueError("returns are defined only for terminal states; this game is still going")
        return self._returns_by_winner[state.winner].copy()

    def encode(self, state: ConnectState) -> np.ndarray:
        return encode(state.board, state.to_move, self.num_players, self.height, self.width)

    @cached_property
    def _symmetries(self) -> list[Symmetry]:
        cols = np.arange(self.width, dtype=np.int64)
        cells = np.arange(self._cells, dtype=np.int64)
        rows = cells // self.width
        mirrored_cells = rows * self.width + (self.width - 1 - cells % self.width)
        return [
            Symmetry("identity", cells, cols),
            Symmetry("mirror", mirrored_cells, cols[::-1].copy()),
        ]

    def symmetries(self) -> list[Symmetry]:
        return list(self._symmetries)

    def random_playout(self, state: ConnectState, rng: np.random.Generator) -> np.ndarray:
        """float32 [P]: returns of one uniformly random continuation of ``state``."""
        return self._returns_by_winner[self._random_winners(state, 1, rng)[0]].copy()

    def random_playouts(self, state: ConnectState, count: int, rng: np.random.Generator) -> np.ndarray:
        """float32 [count, P]: returns of ``count`` independent uniformly random continuations of ``state``."""
        return self._returns_by_winner[self._random_winners(state, count, rng)]

    def _random_winners(self, state: ConnectState, count: int, rng: np.random.Generator) -> np.ndarray:
        """int8 [count]: winner of each random continuation, -1 for a draw (indexes ``_returns_by_winner``)."""
        if state.done:
            return np.full(count, state.winner, dtype=np.int8)
        return random_winners(
            state.board,
            state.heights,
            state.to_move,
            state.moves,
            self.num_players,
            self.height,
            self.width,
            self.k,
            count,
            draw_seed(rng),
        )

    def action_to_string(self, action: int) -> str:
        """The column number, 1-based as printed under the board."""
        return str(as_action(action, self.action_size) + 1)

    def render(self, state: ConnectState) -> str:
        symbols = {EMPTY: "."} | {i: SYMBOLS[i] for i in range(self.num_players)}
        players = ", ".join(f"{SYMBOLS[i]}=player {i}" for i in range(self.num_players))
        if state.done:
            status = f"player {state.winner} won" if state.winner >= 0 else "draw"
        else:
            status = f"{SYMBOLS[state.to_move]} (player {state.to_move}) to move"
        lines = [f"{self.board_type} ({self.k} in a row; {players}): {status}"]
        for r in range(self.height):
            row = state.board[r * self.width : (r + 1) * self.width]
            lines.append(" ".join(symbols[int(v)] for v in row))
        lines.append(" ".join(str((c + 1) % 10) for c in range(self.width)))
        return "\n".join(lines)
