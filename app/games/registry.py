"""Board types by name: ``make_game("hex8", 2)``, ``game_for_key("connect4_3p")``.

Games are immutable rule objects, so each (board type, player count) is built once and shared.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from app.core.errors import InvalidConfig
from app.core.names import parse_config_key
from app.games.base import Game
from app.games.connect import CONNECT4_SIZES, ConnectGame
from app.games.hex import HexGame

HEX_SIZES = range(5, 14)
DEFAULT_BOARD_TYPE = "hex8"


def _connect4(num_players: int) -> Game:
    width, height = CONNECT4_SIZES[num_players]
    return ConnectGame(width=width, height=height, k=4, num_players=num_players, board_type="connect4")


def _hex(size: int, swap: bool) -> Callable[[int], Game]:
    return lambda _num_players: HexGame(size, swap=swap)


_BUILDERS: dict[str, tuple[tuple[int, ...], Callable[[int], Game]]] = {
    **{f"hex{n}": ((2,), _hex(n, False)) for n in HEX_SIZES},
    **{f"hex{n}swap": ((2,), _hex(n, True)) for n in HEX_SIZES},
    "connect4": (tuple(sorted(CONNECT4_SIZES)), _connect4),
}


def _natural(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def supported() -> dict[str, tuple[int, ...]]:
    """Board type → the player counts it supports, in natural order (hex5, hex6, ..., hex13)."""
    return {name: _BUILDERS[name][0] for name in sorted(_BUILDERS, key=_natural)}


def _listing() -> str:
    return ", ".join(f"{name} {list(players)}" for name, players in supported().items())


@cache
def _build(board_type: str, num_players: int) -> Game:
    return _BUILDERS[board_type][1](num_players)


def make_game(board_type: str, num_players: int) -> Game:
    """The game for ``board_type`` with ``num_players`` players (one shared instance per pair).

    Raises InvalidConfig naming what is supported when either is unknown.
    """
    if not isinstance(board_type, str) or board_type not in _BUILDERS:
        raise InvalidConfig(
            f"unknown board type {board_type!r}; supported (board type [players]): {_listing()}"
        )
    counts = _BUILDERS[board_type][0]
    if isinstance(num_players, bool) or not isinstance(num_players, int) or num_players not in counts:
        raise InvalidConfig(
            f"{board_type} does not support {num_players!r} players; it supports {list(counts)}. "
            f"All board types [players]: {_listing()}"
        )
    return _build(board_type, num_players)


def game_for_key(key: str) -> Game:
    """The game for a config key such as ``hex8_2p``; InvalidConfig for a malformed or unsupported key."""
    try:
        parsed = parse_config_key(key)
    except ValueError as exc:
        raise InvalidConfig(str(exc)) from None
    return make_game(parsed.board_type, parsed.num_players)
