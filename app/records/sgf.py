"""Game records as text: Hex SGF as HexGui reads and writes it, and one JSON object per line.

Hex SGF (``GM[11]``): ``(;FF[4]GM[11]SZ[n]PB[..]PW[..]RE[B+];B[a1];W[b2]...)``. Black is seat 0, who moves
first and joins top to bottom; a cell is column letter + row number from the top left, the swap is
``swap-pieces`` — HexGui's conventions and this project's (``HexGame.action_to_string``). SGF has no game type for
Connect-family games, so those export as JSON lines only.
"""

from __future__ import annotations

import json

import numpy as np

from app.core.errors import InvalidConfig
from app.games.base import Game
from app.games.hex import HexGame
from app.games.registry import game_for_key
from app.records.games import StoredGame

APPLICATION = "zeroloop"
SGF_UNSUPPORTED = "SGF records Hex games only (GM[11]); export Connect games as jsonl"


def move_names(game: Game, moves: tuple[int, ...]) -> list[str]:
    return [game.action_to_string(a) for a in moves]


def winners(returns: tuple[float, ...]) -> list[int]:
    """Seats with the best return; every seat when all are level (a draw)."""
    values = np.asarray(returns)
    return [int(i) for i in np.flatnonzero(values == values.max())]


def is_hex(config_key: str) -> bool:
    return isinstance(game_for_key(config_key), HexGame)


def to_sgf(record: StoredGame) -> str:
    """One Hex game as an SGF game tree; InvalidConfig for other games."""
    game = game_for_key(record.config_key)
    if not isinstance(game, HexGame):
        raise InvalidConfig(f"{record.config_key}: {SGF_UNSUPPORTED}")
    size = game.size
    best = winners(record.returns)
    result = "0" if len(best) == len(record.returns) else ("B+" if best == [0] else "W+")
    header = (
        f"FF[4]GM[11]AP[{APPLICATION}]SZ[{size}]PB[{_text(record.players[0])}]PW[{_text(record.players[1])}]"
        f"RE[{result}]GN[{record.game_id}]DT[{record.created_at.date().isoformat()}]"
    )
    if record.opening_length:
        header += f"GC[{_text(f'the first {record.opening_length} moves are a random opening')}]"
    # Colours alternate by ply even across a swap: it hands the move back to seat 0 (colours stay with seats),
    # and HexGui records ``W[swap-pieces]`` followed by ``B[...]`` the same way.
    nodes = [
        f";{'BW'[ply % 2]}[{'swap-pieces' if name == 'swap' else name}]"
        for ply, name in enumerate(move_names(game, record.moves))
    ]
    return f"(;{header}{''.join(nodes)})\n"


def to_json_line(record: StoredGame) -> str:
    """One game as one line of JSON: ids, seats, returns, and moves both as names and as action indices."""
    game = game_for_key(record.config_key)
    data = {
        "game_id": record.game_id,
        "kind": record.kind,
        "config_key": record.config_key,
        "players": list(record.players),
        "returns": list(record.returns),
        "winners": winners(record.returns),
        "moves": move_names(game, record.moves),
        "actions": list(record.moves),
        "opening_length": record.opening_length,
        "source": record.source,
        "created_at": record.created_at.isoformat(),
        **{k: v for k, v in record.extra.items() if v is not None},
    }
    return json.dumps(data, separators=(",", ":"))


def _text(value: str) -> str:
    """SGF text escapes: a backslash before ``]`` and ``\\``."""
    return value.replace("\\", "\\\\").replace("]", "\\]")
