"""Game rules behind one protocol, and the registry of built-in board types."""

from app.games.base import Game, State, Symmetry, play_randomly
from app.games.connect import ConnectGame, ConnectState
from app.games.hex import HexGame, HexState
from app.games.registry import DEFAULT_BOARD_TYPE, game_for_key, make_game, supported

__all__ = [
    "DEFAULT_BOARD_TYPE",
    "ConnectGame",
    "ConnectState",
    "Game",
    "HexGame",
    "HexState",
    "State",
    "Symmetry",
    "game_for_key",
    "make_game",
    "play_randomly",
    "supported",
]
