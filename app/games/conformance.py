"""A conformance check every game's tests call: does this object honour the ``Game`` protocol?

``check_game(game, n_games, seed)`` plays random games to the end and checks at every step: types, dtypes and
shapes; the mask is all False exactly at terminal states; illegal and out-of-range actions raise ValueError;
``apply`` leaves its input untouched; returns are float32 [P] in [-1, 1] summing to zero (+1/-1/0 for two
players); every symmetry is a permutation (identity first) that maps the planes, mask and result of a game onto
those of the mirrored game; random games end. Violations raise ``ConformanceError`` saying what and where.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from app.core.names import parse_config_key
from app.games.base import Game, State, Symmetry


class ConformanceError(AssertionError):
    """A game breaks the protocol; the message says how."""


@dataclass
class ConformanceReport:
    """What ``check_game`` saw: games played, moves made and how the games ended."""

    games: int = 0
    moves: int = 0
    outcomes: Counter = field(default_factory=Counter)  # returns tuple → count
    max_length: int = 0


def _fail(what: str) -> None:
    raise ConformanceError(what)


def _expect(cond: bool, what: str) -> None:
    if not cond:
        _fail(what)


def _snapshot(game: Game, state: State) -> tuple:
    """Everything observable about ``state``, as comparable bytes, including the raw fields of a dataclass."""
    parts: list = [
        game.encode(state).tobytes(),
        game.legal_mask(state).tobytes(),
        game.is_terminal(state),
    ]
    if dataclasses.is_dataclass(state):
        for f in dataclasses.fields(state):
            v = getattr(state, f.name)
            parts.append(v.tobytes() if isinstance(v, np.ndarray) else repr(v))
    return tuple(parts)


def _check_static(game: Game) -> list[Symmetry]:
    _expect(isinstance(game, Game), f"{game!r} lacks members of the Game protocol")
    _expect(isinstance(game.num_players, int) and game.num_players >= 1, "num_players must be an int >= 1")
    shape = game.board_shape
    _expect(
        isinstance(shape, tuple) and len(shape) == 2 and all(isinstance(d, int) and d > 0 for d in shape),
        f"board_shape must be (H, W) of positive ints, got {shape!r}",
    )
    _expect(isinstance(game.num_planes, int) and game.num_planes > 0, "num_planes must be a positive int")
    _expect(isinstance(game.action_size, int) and game.action_size > 0, "action_size must be a positive int")
    key = parse_config_key(game.config_key)
    _expect(
        (key.board_type, key.num_players) == (game.board_type, game.num_players),
        f"config_key {game.config_key!r} disagrees with board_type/num_players",
    )
    _expect(
        _snapshot(game, game.initial_state()) == _snapshot(game, game.initial_state()), "initial_state varies"
    )
    syms = game.symmetries()
    _expect(len(syms) >= 1, "symmetries() must list at least the identity")
    cells = shape[0] * shape[1]
    for i, s in enumerate(syms):
        for perm, n, what in (
            (s.cell_perm, cells, "cell_perm"),
            (s.action_perm, game.action_size, "action_perm"),
        ):
            _expect(
                isinstance(perm, np.ndarray) and perm.dtype == np.int64 and perm.shape == (n,),
                f"symmetry {s.name}: {what} must be int64 [{n}]",
            )
            _expect(
                np.array_equal(np.sort(perm), np.arange(n)), f"symmetry {s.name}: {what} is not a permutation"
            )
            if i == 0:
                _expect(
                    np.array_equal(perm, np.arange(n)), f"the first symmetry must be the identity ({what})"
                )
    return syms


def _check_state(game: Game, state: State) -> np.ndarray:
    """Checks shapes and types at one state; returns its legal mask."""
    mask = game.legal_mask(state)
    _expect(
        isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (game.action_size,),
        f"legal_mask must be bool [{game.action_size}], got {getattr(mask, 'dtype', type(mask))} "
        f"{getattr(mask, 'shape', '')}",
    )
    planes = game.encode(state)
    _expect(
        isinstance(planes, np.ndarray)
        and planes.dtype == np.float32
        and planes.shape == (game.num_planes, *game.board_shape),
        f"encode must be float32 {(game.num_planes, *game.board_shape)}, got {planes.dtype} {planes.shape}",
    )
    _expect(bool(np.isfinite(planes).all()), "encode produced non-finite values")
    _expect(isinstance(game.render(state), str) and game.render(state) != "", "render must return text")
    if game.is_terminal(state):
        _expect(not mask.any(), "legal_mask must be all False at a terminal state")
        _check_returns(game, game.returns(state))
    else:
        _expect(bool(mask.any()), "a non-terminal state must have a legal action")
        player = game.current_player(state)
        _expect(
            isinstance(player, int | np.integer) and 0 <= player < game.num_players,
            f"current_player must be in 0..{game.num_players - 1}, got {player!r}",
        )
    return mask


def _check_returns(game: Game, r: np.ndarray) -> None:
    p = game.num_players
    _expect(
        isinstance(r, np.ndarray) and r.dtype == np.float32 and r.shape == (p,),
        f"returns must be float32 [{p}], got {getattr(r, 'dtype', type(r))} {getattr(r, 'shape', '')}",
    )
    _expect(bool(np.all((r >= -1) & (r <= 1))), f"returns must lie in [-1, 1], got {r}")
    _expect(abs(float(r.sum())) < 1e-5, f"returns must sum to zero, got {r}")
    if p == 2:
        _expect(float(r[0]) in (-1.0, 0.0, 1.0), f"two-player returns must be +1/-1/0, got {r}")


def _check_illegal(game: Game, state: State, mask: np.ndarray) -> None:
    bad = [-1, game.action_size, *np.flatnonzero(~mask)[:2].tolist()]
    for action in bad:
        try:
            game.apply(state, action)
        except ValueError:
            continue
        _fail(f"apply({action}) must raise ValueError (legal: {np.flatnonzero(mask).tolist()})")


def _check_playout(game: Game, state: State, seed: int) -> None:
    a = game.random_playout(state, np.random.default_rng(seed))
    b = game.random_playout(state, np.random.default_rng(seed))
    _check_returns(game, a)
    _expect(np.array_equal(a, b), "random_playout must be reproducible from the rng")
    if game.is_terminal(state):
        _expect(
            np.array_equal(a, game.returns(state)), "random_playout of a terminal state must be its returns"
        )


def _inverse(perm: np.ndarray) -> np.ndarray:
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return inv


def check_game(
    game: Game, n_games: int = 50, seed: int = 0, *, max_moves: int = 100_000
) -> ConformanceReport:
    """Play ``n_games`` seeded random games with ``game`` checking the protocol at every step.

    Each game is replayed through every symmetry (action ``a`` becomes ``inverse(action_perm)[a]``) and the
    mirrored game must show the mapped planes and mask at every step and end with the same returns.
    """
    syms = _check_static(game)
    rng = np.random.default_rng(seed)
    report = ConformanceReport()
    inverses = [_inverse(s.action_perm) for s in syms]
    for g in range(n_games):
        state = game.initial_state()
        mirrored = [state] * len(syms)
        length = 0
        while True:
            mask = _check_state(game, state)
            planes = game.encode(state)
            for s, m in zip(syms, mirrored, strict=True):
                _expect(
                    np.array_equal(game.encode(m), s.planes(planes)),
                    f"symmetry {s.name}: planes do not map after {length} moves of game {g}",
                )
                _expect(
                    np.array_equal(game.legal_mask(m), s.policy(mask)),
                    f"symmetry {s.name}: legal mask does not map after {length} moves of game {g}",
                )
                _expect(
                    game.is_terminal(m) == game.is_terminal(state), f"symmetry {s.name}: terminal differs"
                )
            if length % 7 == 0:
                _check_playout(game, state, seed + g)
            if game.is_terminal(state):
                break
            _expect(length < max_moves, f"game {g} did not end within {max_moves} moves")
            _check_illegal(game, state, mask)
            action = int(rng.choice(np.flatnonzero(mask)))
            before = _snapshot(game, state)
            nxt = game.apply(state, action)
            _expect(_snapshot(game, state) == before, f"apply({action}) changed its input state")
            mirrored = [game.apply(m, int(inv[action])) for m, inv in zip(mirrored, inverses, strict=True)]
            state = nxt
            length += 1
        final = game.returns(state)
        for s, m in zip(syms, mirrored, strict=True):
            _expect(np.array_equal(game.returns(m), final), f"symmetry {s.name}: returns differ in game {g}")
        _check_playout(game, state, seed)
        report.games += 1
        report.moves += length
        report.max_length = max(report.max_length, length)
        report.outcomes[tuple(float(x) for x in final)] += 1
    return report
