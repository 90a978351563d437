"""Small games and fake evaluators whose right answers can be worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.games.base import Game, State, Symmetry


@dataclass(frozen=True)
class Decision:
    """A position where ``player`` moves. ``priors`` [A] (zero = illegal) and ``value`` [P] (absolute order) are
    what ``TableGame.evaluator`` answers for it."""

    player: int
    priors: tuple[float, ...]
    value: tuple[float, ...]


@dataclass(frozen=True)
class End:
    returns: tuple[float, ...]


@dataclass
class TableGame:
    """A game written out as a table: a state is the tuple of actions played so far; ``table`` maps every
    reachable state to a Decision or an End. ``encode`` writes the state's row number into a 1×1 plane so the
    fake ``evaluator`` can look its answer up."""

    num_players: int
    action_size: int
    table: dict[tuple[int, ...], Decision | End]
    board_type: str = "table"
    board_shape: tuple[int, int] = (1, 1)
    num_planes: int = 1
    _ids: dict[tuple[int, ...], int] = field(init=False)

    def __post_init__(self) -> None:
        self._ids = {state: i for i, state in enumerate(self.table)}
        self._states = list(self.table)

    @property
    def config_key(self) -> str:
        return f"table_{self.num_players}p"

    def initial_state(self) -> State:
        return ()

    def current_player(self, state: State) -> int:
        return self.table[state].player

    def legal_mask(self, state: State) -> np.ndarray:
        node = self.table[state]
        if isinstance(node, End):
            return np.zeros(self.action_size, dtype=bool)
        return np.array(node.priors) > 0

    def apply(self, state: State, action: int) -> State:
        if not self.legal_mask(state)[action]:
            raise ValueError(f"illegal action {action} in {state}")
        return (*state, int(action))

    def is_terminal(self, state: State) -> bool:
        return isinstance(self.table[state], End)

    def returns(self, state: State) -> np.ndarray:
        return np.array(self.table[state].returns, dtype=np.float32)

    def encode(self, state: State) -> np.ndarray:
        return np.full((1, 1, 1), self._ids[state], dtype=np.float32)

    def symmetries(self) -> list[Symmetry]:
        return [Symmetry("identity", np.arange(1), np.arange(self.action_size))]

    def render(self, state: State) -> str:
        return repr(state)

    def evaluator(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The table's priors and values, values rotated to mover-relative order as a network answers."""
        priors = np.zeros((len(planes), self.action_size), dtype=np.float32)
        values = np.zeros((len(planes), self.num_players), dtype=np.float32)
        for i, plane in enumerate(planes):
            node = self.table[self._states[int(plane[0, 0, 0])]]
            priors[i] = node.priors
            p = self.num_players
            values[i] = [node.value[(node.player + k) % p] for k in range(p)]
        return priors, values


class HashEvaluator:
    """A deterministic stand-in for a network on any game: priors and values are fixed random functions of each
    position's planes, computed row by row so that an answer never depends on what else is in the batch."""

    def __init__(self, game: Game, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        size = game.num_planes * game.board_shape[0] * game.board_shape[1]
        self.w_policy = rng.normal(size=(size, game.action_size))
        self.w_value = rng.normal(size=(size, game.num_players)) / np.sqrt(size)
        self.calls: list[int] = []

    def __call__(self, planes: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.calls.append(len(planes))
        priors = np.zeros(legal.shape, dtype=np.float32)
        values = np.zeros((len(planes), self.w_value.shape[1]), dtype=np.float32)
        for i in range(len(planes)):
            x = planes[i].reshape(-1).astype(np.float64)
            logits = np.where(legal[i], x @ self.w_policy, -np.inf)
            p = np.exp(logits - logits.max())
            priors[i] = p / p.sum()
            values[i] = np.tanh(x @ self.w_value)
        return priors, values


def play(game: Game, moves: list[int]) -> State:
    state = game.initial_state()
    for move in moves:
        state = game.apply(state, move)
    return state


def winning_moves(game: Game, state: State, depth: int) -> set[int]:
    """The mover's moves that force a win within ``depth`` of their own moves (exhaustive max-n search for two
    players: the opponent replies with every move)."""
    mover = game.current_player(state)
    return {
        int(a)
        for a in np.flatnonzero(game.legal_mask(state))
        if _forces_win(game, game.apply(state, a), mover, depth - 1)
    }


def _forces_win(game: Game, state: State, player: int, depth: int) -> bool:
    if game.is_terminal(state):
        return game.returns(state)[player] == 1.0
    moves = np.flatnonzero(game.legal_mask(state))
    children = (game.apply(state, a) for a in moves)
    if game.current_player(state) == player:
        return depth > 0 and any(_forces_win(game, c, player, depth - 1) for c in children)
    return all(_forces_win(game, c, player, depth) for c in children)
